"""An ASR worker: transcribes the calls the coordinator hands it (``hotline run asr``; any number, anywhere).

It announces itself every ``HEARTBEAT_S`` (``WorkerHeartbeat``: where the switch can send it RTP, its
capacity, its free slots and its calls), opens one RTP port per leg when asked (``OpenCall`` →
``CallOpened``), refuses when full or when it decodes slower than real time, so the coordinator asks
another worker (shedding rather than lagging every call it holds), and closes a call when told (``CloseCall`` → ``CallClosed``). What it hears leaves as
``TranscriptSegment`` events on the bus; it stores nothing itself (one writer per segment: the coordinator).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from concurrent.futures import Future
from typing import Any

from asr.events import Leg
from asr.placement import HEARTBEAT_S
from asr.service import TranscriptionService
from asr.worker_events import CallClosed, CallOpened, CloseCall, OpenCall, WorkerHeartbeat
from kernel import metrics
from kernel.bus import EventBus

log = logging.getLogger(__name__)
LEGS: tuple[Leg, ...] = ("caller", "agent", "mic", "file")
BEHIND_WAIT_S = 0.1  # decode jobs (≥ 100 ms of audio each) waiting longer: slower than real time


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class AsrWorker:
    def __init__(
        self,
        service: TranscriptionService,
        bus: EventBus,
        *,
        worker_id: str | None = None,
        host: str | None = None,
        capacity: int = 12,
        heartbeat_s: float = HEARTBEAT_S,
    ) -> None:
        self.service = service
        self.bus = bus
        self.worker_id = worker_id or default_worker_id()
        self.host = host or service.host  # where the switch sends this worker's RTP
        self.capacity = capacity
        self.heartbeat_s = heartbeat_s
        self.refused = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._work: set[Future[Any]] = set()
        self._closed_while_opening: set[str] = set()

    def install(self) -> AsrWorker:
        self.bus.subscribe(OpenCall, self._on_open)
        self.bus.subscribe(CloseCall, self._on_close)
        return self

    @property
    def behind(self) -> bool:
        """Decoding slower than real time: take no new call (the ones held would all lag)."""
        # Without calls no job runs and the average stays where the last call left it: not behind then.
        return bool(self.service.calls) and self.service.decode_wait_s > BEHIND_WAIT_S

    @property
    def free(self) -> int:
        return 0 if self.behind else max(0, self.capacity - len(self.service.calls))

    def heartbeat(self) -> WorkerHeartbeat:
        return WorkerHeartbeat(
            self.worker_id,
            self.host,
            self.capacity,
            self.free,
            tuple(sorted(self.service.calls)),
            round(self.service.decode_wait_s * 1000),
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Announce this worker until ``stop``; then close what it still holds (the coordinator, hearing no
        more heartbeats, moves those calls to another worker)."""
        self._loop = asyncio.get_running_loop()
        log.info("ASR worker %s: RTP on %s, %d calls at most", self.worker_id, self.host, self.capacity)
        while not stop.is_set():
            self.bus.publish(self.heartbeat())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.heartbeat_s)
        for call_id in list(self.service.calls):
            with contextlib.suppress(Exception):
                await self.service.close_call(call_id)
        metrics.ASR_ACTIVE_CALLS.set(0)

    # ---- requests (bus handlers: any thread; the work runs on the worker's loop) ------------------------
    def _on_open(self, msg: OpenCall) -> None:
        if msg.worker_id == self.worker_id:
            self._submit(self.open(msg))

    def _on_close(self, msg: CloseCall) -> None:
        if msg.worker_id == self.worker_id:
            self._submit(self.close(msg))

    def _submit(self, work: Any) -> None:
        if self._loop is None:
            work.close()
            return
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        self._work.add(future)
        future.add_done_callback(self._work.discard)

    async def open(self, msg: OpenCall) -> CallOpened:
        reply = await self._open(msg)
        metrics.ASR_ACTIVE_CALLS.set(len(self.service.calls))
        self.bus.publish(reply)
        return reply

    async def _open(self, msg: OpenCall) -> CallOpened:
        def refuse(why: str) -> CallOpened:
            return CallOpened(msg.request_id, self.worker_id, msg.call_id, refused=why)

        legs = tuple(leg for leg in msg.legs if leg in LEGS)
        tap = self.service.calls.get(msg.call_id)
        if tap is None and self.free <= 0:
            self.refused += 1
            return refuse("behind" if self.behind else "full")
        if tap is None and len(legs) != len(msg.legs):
            return refuse("unknown leg")
        if tap is None:  # (a repeated request, whose reply was lost, gets the same ports)
            self._closed_while_opening.discard(msg.call_id)
            try:
                tap = await self.service.open_call(
                    msg.call_id, legs, offset_ms=msg.offset_ms, seq_base=msg.seq_base
                )
            except Exception as exc:
                log.exception("ASR worker %s could not open call %s", self.worker_id, msg.call_id)
                return refuse(type(exc).__name__)
            if msg.call_id in self._closed_while_opening:  # the coordinator gave up waiting for us
                self._closed_while_opening.discard(msg.call_id)
                await self.service.close_call(msg.call_id)
                return refuse("closed")
        ports = tuple(tap.ports[leg] for leg in legs)
        return CallOpened(msg.request_id, self.worker_id, msg.call_id, self.host, ports)

    async def close(self, msg: CloseCall) -> CallClosed:
        finals = 0
        tap = self.service.calls.get(msg.call_id)
        if tap is not None:
            received = {leg: r.stats.received for leg, r in tap.receivers.items()}
            log.info("call %s closed on %s: RTP packets received %s", msg.call_id, self.worker_id, received)
            try:
                closed = await self.service.close_call(msg.call_id)
                finals = len(closed.segments)
            except Exception:
                log.exception("ASR worker %s could not close call %s", self.worker_id, msg.call_id)
        else:  # not open (yet): an open still under way closes at once
            if len(self._closed_while_opening) > 1000:
                self._closed_while_opening.clear()
            self._closed_while_opening.add(msg.call_id)
        metrics.ASR_ACTIVE_CALLS.set(len(self.service.calls))
        reply = CallClosed(msg.request_id, self.worker_id, msg.call_id, finals)
        self.bus.publish(reply)
        return reply
