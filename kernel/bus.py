"""The event bus through which components talk, in one process and across processes.

Handlers are plain callables registered per event type; async subscribers (server-sent events, websockets)
get a queue. Publishing never raises because of a subscriber: a failing handler is logged and the rest run.

Across processes (several web processes, the telephony role, ASR workers, the scheduler), a broker carries
the events marked with ``kernel.events.wire``: ``kernel.broker.NatsBridge`` sets ``relay`` to send them and
calls ``deliver`` with what other processes sent. Events not marked stay in the process. Without a broker
(the embedded default) the bus is in-process only.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kernel.events import wire_type

log = logging.getLogger(__name__)

Handler = Callable[[Any], None]


@dataclass
class EventBus:
    _handlers: dict[type, list[Handler]] = field(default_factory=lambda: defaultdict(list))
    _queues: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Any]]] = field(default_factory=list)
    published: list[Any] = field(default_factory=list)
    keep_history: bool = False
    # Set by a broker bridge: sends a wire event to the other processes.
    relay: Callable[[Any], None] | None = None

    def subscribe(self, event_type: type, handler: Handler) -> None:
        self._handlers[event_type].append(handler)

    def publish(self, event: Any) -> None:
        """This process's handlers and listeners get the event; other processes too, where it is a wire
        event and a broker is connected."""
        self.deliver(event)
        if self.relay is not None and wire_type(event) is not None:
            try:
                self.relay(event)
            except Exception:
                log.exception("could not send %s to the broker", type(event).__name__)

    def deliver(self, event: Any) -> None:
        """Dispatch in this process only (an event another process published arrives here)."""
        if self.keep_history:
            self.published.append(event)
        for event_type, handlers in list(self._handlers.items()):
            if isinstance(event, event_type):
                for handler in handlers:
                    try:
                        handler(event)
                    except Exception:
                        log.exception("event handler %r failed on %s", handler, type(event).__name__)
        for loop, queue in list(self._queues):
            try:
                loop.call_soon_threadsafe(_put, queue, event)
            except RuntimeError:  # the loop is closed: that listener is gone
                self.unlisten(queue)

    def listen(self, maxsize: int = 1000) -> asyncio.Queue[Any]:
        """A queue of every event published from now on, for an async consumer on the running loop."""
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=maxsize)
        self._queues.append((asyncio.get_running_loop(), queue))
        return queue

    def unlisten(self, queue: asyncio.Queue[Any]) -> None:
        self._queues[:] = [(lp, q) for lp, q in self._queues if q is not queue]


def _put(queue: asyncio.Queue[Any], event: Any) -> None:
    # A listener that stopped reading (a stalled browser) loses events rather than the process its memory.
    if not queue.full():
        queue.put_nowait(event)
