"""The in-process event bus through which components talk.

Handlers are plain callables registered per event type; async subscribers (server-sent events, websockets)
get a queue. Publishing never raises because of a subscriber: a failing handler is logged and the rest run.
With several processes, the same interface is served by PostgreSQL LISTEN/NOTIFY (see docs/decisions.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[Any], None]


@dataclass
class EventBus:
    _handlers: dict[type, list[Handler]] = field(default_factory=lambda: defaultdict(list))
    _queues: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Any]]] = field(default_factory=list)
    published: list[Any] = field(default_factory=list)
    keep_history: bool = False

    def subscribe(self, event_type: type, handler: Handler) -> None:
        self._handlers[event_type].append(handler)

    def publish(self, event: Any) -> None:
        if self.keep_history:
            self.published.append(event)
        for event_type, handlers in list(self._handlers.items()):
            if isinstance(event, event_type):
                for handler in handlers:
                    try:
                        handler(event)
                    except Exception:
                        log.exception("event handler %r failed on %r", handler, event)
        for loop, queue in list(self._queues):
            try:
                loop.call_soon_threadsafe(queue.put_nowait, event)
            except RuntimeError:  # the loop is closed: that listener is gone
                self._queues.remove((loop, queue))

    def listen(self, maxsize: int = 1000) -> asyncio.Queue[Any]:
        """A queue of every event published from now on, for an async consumer on the running loop."""
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=maxsize)
        self._queues.append((asyncio.get_running_loop(), queue))
        return queue

    def unlisten(self, queue: asyncio.Queue[Any]) -> None:
        self._queues[:] = [(lp, q) for lp, q in self._queues if q is not queue]
