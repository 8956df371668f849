"""Hands each answered call to exactly one ASR worker and moves it when that worker dies.

Runs once per switch, in the telephony role (the lease holder). On an answer it picks the live worker with
the most free slots, asks it to open the call (a full worker refuses: the next one is asked), and points the
call's ARI taps at the worker's RTP ports. Every ``TICK_S`` it looks for workers whose heartbeats lapsed
(``asr.placement.LAPSE_S``); their calls are opened on another worker, continuing the call's clock and
numbering, and the taps re-pointed (a new externalMedia channel in each leg's bridge, the old one deleted).
A call no worker can take now is retried every tick. On hangup the taps go and the worker closes the call;
a call handed out by a coordinator before this one (the telephony role failed over) is closed on the
workers whose heartbeats list it.

It is also the one writer of transcript segments: finals arriving on the bus (from any worker) are stored
once per (call, leg, seq), and on hangup it announces the whole transcript (``CallTranscriptClosed``),
whichever workers heard its parts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from asr.events import CallTranscriptClosed, Leg, TranscriptSegment
from asr.placement import LAPSE_S, SEQ_EPOCH, Placement
from asr.transcripts import SegmentStore
from asr.worker_events import CallClosed, CallMoved, CallOpened, CloseCall, OpenCall, WorkerHeartbeat
from kernel.bus import EventBus

log = logging.getLogger(__name__)

TICK_S = 0.1
OPEN_TIMEOUT_S = 2.0
CLOSE_TIMEOUT_S = 30.0  # closing waits for the last utterance's second pass


class MediaTap(Protocol):
    """Where a call's audio goes (``asr.ari_tap.AriTap``; a fake in tests)."""

    async def tap(self, channel_id: str, ports: dict[Leg, int], host: str | None = None) -> Any: ...

    async def repoint(self, handles: Any, ports: dict[Leg, int], host: str) -> None: ...

    async def untap(self, handles: Any) -> None: ...

    async def find(self, channel_id: str) -> Any:
        """The taps another process made for the call (after a telephony fail-over)."""
        ...

    async def aclose(self) -> None: ...


@dataclass
class _Call:
    call_id: str
    legs: tuple[Leg, ...]
    started: float
    worker_id: str | None = None
    placements: int = 0
    handles: Any = None
    ended: bool = False
    lost: tuple[str, float] | None = None  # the worker that died and when it was last heard
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    finals: dict[tuple[str, int], TranscriptSegment] = field(default_factory=dict)


class TapCoordinator:
    def __init__(
        self,
        bus: EventBus,
        tap: MediaTap,
        loop: asyncio.AbstractEventLoop,
        *,
        store: SegmentStore | None = None,
        legs: tuple[Leg, ...] = ("caller", "agent"),
        lapse_s: float = LAPSE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bus = bus
        self.tap = tap
        self.loop = loop
        self.store = store  # None: someone else stores and announces (a worker's own service)
        self.legs = legs
        self.clock = clock
        self.placement = Placement(lapse_s)
        self.calls: dict[str, _Call] = {}
        self._replies: dict[str, asyncio.Future[Any]] = {}
        self._busy: set[str] = set()  # calls being placed
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="asr-store") if store is not None else None

    def install(self) -> TapCoordinator:
        self.bus.subscribe(WorkerHeartbeat, self._on_heartbeat)
        self.bus.subscribe(CallOpened, self._on_reply)
        self.bus.subscribe(CallClosed, self._on_reply)
        if self.store is not None:
            self.bus.subscribe(TranscriptSegment, self._on_segment)
        return self

    # ---- bus handlers (any thread) -----------------------------------------------------------------------
    def _on_heartbeat(self, beat: WorkerHeartbeat) -> None:
        self.loop.call_soon_threadsafe(self.placement.heartbeat, beat, self.clock())

    def _on_reply(self, reply: CallOpened | CallClosed) -> None:
        def settle() -> None:
            future = self._replies.pop(reply.request_id, None)
            if future is not None and not future.done():
                future.set_result(reply)

        self.loop.call_soon_threadsafe(settle)

    def _on_segment(self, segment: TranscriptSegment) -> None:
        if not segment.is_final:
            return
        call = self.calls.get(segment.call_id)
        if call is not None:
            key = (segment.leg, segment.seq)
            if key in call.finals:
                return
            call.finals[key] = segment
        assert self._writer is not None and self.store is not None
        self._writer.submit(self._save, self.store, segment)

    @staticmethod
    def _save(store: SegmentStore, segment: TranscriptSegment) -> None:
        try:
            store.save(segment)
        except Exception:
            log.exception("could not store a transcript segment of call %s", segment.call_id)

    # ---- the telephony role's calls ----------------------------------------------------------------------
    async def call_answered(self, call_id: str) -> bool:
        call = self.calls[call_id] = _Call(call_id, self.legs, self.clock())
        return await self._place(call)

    async def call_ended(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None:
            await self._close_orphan(call_id)
            return
        call.ended = True
        async with call.lock:
            if call.handles is not None:
                try:
                    await self.tap.untap(call.handles)
                except Exception:
                    log.exception("could not remove the transcription tap of call %s", call_id)
            if call.worker_id is not None:
                self.placement.release(call_id)
                await self._request(CloseCall(_rid(), call.worker_id, call_id), CLOSE_TIMEOUT_S)
        self.calls.pop(call_id, None)
        if self.store is not None:
            if self._writer is not None:  # the finals are written before the transcript is announced
                await asyncio.wrap_future(self._writer.submit(lambda: None))
            finals = sorted(call.finals.values(), key=lambda s: (s.start_ms, s.leg, s.seq))
            self.bus.publish(CallTranscriptClosed(call_id, tuple(finals)))

    async def _close_orphan(self, call_id: str) -> None:
        """A call this coordinator did not hand out (the telephony role failed over mid-call): the workers
        that hold it close it, and the transcript stored so far (every worker's finals) is announced."""
        holders = self.placement.holders(call_id)
        if not holders:
            return
        log.info("closing call %s handed out before this coordinator started", call_id)
        try:
            await self.tap.untap(await self.tap.find(call_id))
        except Exception:
            log.exception("could not remove the earlier transcription tap of call %s", call_id)
        for worker_id in holders:
            await self._request(CloseCall(_rid(), worker_id, call_id), CLOSE_TIMEOUT_S)
        if self.store is not None and self._writer is not None:
            store = self.store
            finals = await asyncio.wrap_future(self._writer.submit(store.for_call, call_id))
            self.bus.publish(CallTranscriptClosed(call_id, tuple(finals)))

    async def run(self, stop: asyncio.Event) -> None:
        """Watch the workers' heartbeats until ``stop``; move the calls of those that went silent."""
        while not stop.is_set():
            self.check()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), TICK_S)
        for task in list(self._tasks):
            task.cancel()
        if self._writer is not None:
            self._writer.shutdown(wait=True)

    def check(self) -> None:
        now = self.clock()
        for worker, call_ids in self.placement.lapsed(now):
            log.warning("ASR worker %s went silent; moving %d calls", worker.worker_id, len(call_ids))
            for call_id in call_ids:
                call = self.calls.get(call_id)
                if call is not None and not call.ended:
                    call.worker_id, call.lost = None, (worker.worker_id, worker.seen_at)
            for call_id in call_ids:  # in case it is only slow: it frees the call, its finals stay apart
                self.bus.publish(CloseCall(_rid(), worker.worker_id, call_id, abandon=True))
        for call in self.calls.values():
            if call.worker_id is None and not call.ended and call.call_id not in self._busy:
                self._spawn(self._place(call))

    # ---- placing a call -------------------------------------------------------------------------------
    def _spawn(self, work: Any) -> None:
        task = self.loop.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _place(self, call: _Call) -> bool:
        if call.call_id in self._busy:
            return False
        self._busy.add(call.call_id)
        try:
            async with call.lock:
                return await self._place_locked(call)
        finally:
            self._busy.discard(call.call_id)

    async def _place_locked(self, call: _Call) -> bool:
        tried: set[str] = set()
        while not call.ended and call.worker_id is None:
            candidates = self.placement.candidates(self.clock(), tried)
            if not candidates:
                return False  # retried on the next tick
            worker = candidates[0]
            tried.add(worker.worker_id)
            offset_ms = round((self.clock() - call.started) * 1000) if call.placements else 0
            request = OpenCall(
                _rid(), worker.worker_id, call.call_id, call.legs, offset_ms, call.placements * SEQ_EPOCH
            )
            reply = await self._request(request, OPEN_TIMEOUT_S)
            if not isinstance(reply, CallOpened) or reply.refused or len(reply.ports) != len(call.legs):
                self.placement.refused(worker.worker_id)
                if reply is None:  # it may still open the call late: it must not keep the slot
                    self.bus.publish(CloseCall(_rid(), worker.worker_id, call.call_id, abandon=True))
                continue
            if not call.placements:
                call.started = self.clock()  # the call's transcript clock starts with its first tap
            call.placements += 1
            self.placement.assign(call.call_id, worker.worker_id)
            call.worker_id = worker.worker_id
            if call.ended:
                break
            ports = dict(zip(call.legs, reply.ports, strict=True))
            try:
                if call.handles is None:
                    call.handles = await self.tap.tap(call.call_id, ports, reply.host)
                else:
                    await self.tap.repoint(call.handles, ports, reply.host)
            except Exception:
                # The caller may hang up between the answer and the tap; the call itself is unaffected.
                log.exception("could not tap call %s for transcription", call.call_id)
                call.ended = True
                self.placement.release(call.call_id)
                self.bus.publish(CloseCall(_rid(), worker.worker_id, call.call_id, abandon=True))
                return False
            if call.lost is not None:
                lost_worker, seen_at = call.lost
                call.lost = None
                gap_ms = round((self.clock() - seen_at) * 1000)
                self.bus.publish(CallMoved(call.call_id, lost_worker, worker.worker_id, gap_ms))
            return True
        return call.worker_id is not None

    async def _request(self, message: OpenCall | CloseCall, within_s: float) -> Any:
        future: asyncio.Future[Any] = self.loop.create_future()
        self._replies[message.request_id] = future
        self.bus.publish(message)
        try:
            return await asyncio.wait_for(future, within_s)
        except TimeoutError:
            log.warning("ASR worker %s did not answer %s", message.worker_id, type(message).__name__)
            return None
        finally:
            self._replies.pop(message.request_id, None)


def _rid() -> str:
    return uuid.uuid4().hex
