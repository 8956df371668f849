"""The bus across processes on NATS (``HOTLINE_BROKER_URL=nats://host:4222``).

Every process connects once. A wire event published here goes to ``<namespace>.ev.<type>`` (namespace
``hotline`` unless ``HOTLINE_BROKER_NAMESPACE`` says otherwise); every process
subscribes to ``<namespace>.ev.>`` and hands what others sent to its own handlers and listeners (its own
messages it has already delivered, so it skips them). Handlers run on one dispatch thread per process, in
the order the events arrived, so a slow handler never holds up the connection. A message that is not a
known event of a known version is counted, logged without its content, and dropped.

Core NATS delivers to whoever is connected (at most once). Work-order events are written to the outbox
in the transaction that changes the order (``kernel/outbox.py``) and sent from it, so a crash between
commit and publish loses nothing; a process that was disconnected rebuilds its picture from the database.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from kernel import metrics
from kernel.bus import EventBus
from kernel.events import WireError, decode, encode, wire_type

log = logging.getLogger(__name__)


def process_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{time.monotonic_ns() % 1_000_000}"


@dataclass
class BrokerStats:
    sent: int = 0
    received: int = 0
    dropped: int = 0  # malformed or unknown-version messages
    lag_ms: list[float] = field(default_factory=list)  # publish → here, the last 1,000

    def observe_lag(self, ms: float) -> None:
        self.lag_ms.append(ms)
        if len(self.lag_ms) > 1000:
            del self.lag_ms[:500]


class NatsBridge:
    def __init__(self, bus: EventBus, url: str, *, name: str = "hotline", namespace: str = "hotline") -> None:
        self.bus = bus
        self.url = url
        self.name = name
        # Subjects are ``<namespace>.ev.<event>``: two hotlines (a training system beside production, or two
        # test runs) sharing one NATS server never hear each other's events.
        self.prefix = f"{namespace}.ev."
        self.origin = process_id()
        self.stats = BrokerStats()
        self._nc: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inbox: queue.Queue[Any] = queue.Queue(maxsize=100_000)
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()

    async def start(self, *, connect_timeout: float = 5.0) -> None:
        import nats

        self._loop = asyncio.get_running_loop()
        try:
            self._nc = await nats.connect(
                self.url,
                name=f"{self.name}:{self.origin}",
                connect_timeout=connect_timeout,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                allow_reconnect=True,
            )
        except Exception as exc:
            raise ConnectionError(f"cannot reach the broker at {self.url}: {type(exc).__name__}") from exc
        await self._nc.subscribe(self.prefix + ">", cb=self._on_message)
        await self._nc.flush()
        self._thread = threading.Thread(target=self._dispatch, name="bus-dispatch", daemon=True)
        self._thread.start()
        self.bus.relay = self.send
        self.connected.set()
        log.info("event bus connected to the broker (%s)", self.url)

    async def stop(self) -> None:
        self.bus.relay = None
        self.connected.clear()
        if self._nc is not None:
            try:
                await self._nc.drain()
            except Exception:
                log.debug("broker drain failed", exc_info=True)
            self._nc = None
        if self._thread is not None:
            self._inbox.put(None)
            self._thread.join(timeout=5)
            self._thread = None

    # ---- out ---------------------------------------------------------------------------------------
    def send(self, event: Any) -> None:
        """Thread-safe: encode now, publish on the bridge's loop."""
        entry = wire_type(event)
        if entry is None or self._loop is None or self._nc is None:
            return
        payload = encode(event, self.origin)
        subject = self.prefix + entry.name
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._loop.create_task(self._publish(subject, payload))
        else:
            asyncio.run_coroutine_threadsafe(self._publish(subject, payload), self._loop)

    async def _publish(self, subject: str, payload: bytes) -> None:
        try:
            await self._nc.publish(subject, payload)
            self.stats.sent += 1
            metrics.BUS_SENT.inc()
        except Exception:
            log.exception("broker publish on %s failed", subject)

    async def flush(self, wait_s: float = 5.0) -> None:
        """Wait until the broker has every message sent so far (the outbox marks rows after this)."""
        if self._nc is not None:
            await self._nc.flush(timeout=wait_s)

    def flush_threadsafe(self, timeout: float = 5.0) -> bool:
        if self._loop is None or self._nc is None:
            return False
        future = asyncio.run_coroutine_threadsafe(self.flush(timeout), self._loop)
        try:
            future.result(timeout + 1)
        except Exception:
            return False
        return True

    # ---- in ----------------------------------------------------------------------------------------
    async def _on_message(self, msg: Any) -> None:
        try:
            self._inbox.put_nowait(msg.data)
        except queue.Full:
            self.stats.dropped += 1
            metrics.BUS_DROPPED.inc()
            log.error("event bus inbox full: an event was dropped")

    def _dispatch(self) -> None:
        while True:
            payload = self._inbox.get()
            if payload is None:
                return
            self._deliver(payload)

    def _deliver(self, payload: bytes) -> None:
        try:
            received = decode(payload)
        except WireError as exc:
            self.stats.dropped += 1
            metrics.BUS_DROPPED.inc()
            log.warning("dropped a message from the broker: %s", exc)
            return
        if received.origin == self.origin:
            return  # delivered in this process when it was published
        self.stats.received += 1
        metrics.BUS_RECEIVED.inc()
        if received.sent_at:
            lag = max(0.0, time.time() - received.sent_at)
            self.stats.observe_lag(lag * 1000)
            metrics.BUS_LAG.observe(lag)
        self.bus.deliver(received.event)
