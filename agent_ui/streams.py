"""Server-sent events for the desk's pages: the bus's events, classified per page, as ``event:`` lines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse


def sse_response(request: Request, hot: Any, classify: Any) -> StreamingResponse:
    """Until the lifetime ends (the browser's EventSource reconnects by itself), with keep-alives."""
    lifetime: float = request.app.state.ui_sse_lifetime

    async def stream() -> AsyncIterator[str]:
        queue = hot.bus.listen()
        try:
            yield "retry: 1000\n: connected\n\n"  # a browser reconnects after 1 s (another web process)
            loop = asyncio.get_running_loop()
            end = loop.time() + lifetime
            while loop.time() < end:
                try:
                    event = await asyncio.wait_for(
                        queue.get(), timeout=min(15.0, max(end - loop.time(), 0.01))
                    )
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": keep-alive\n\n"
                    continue
                result = classify(event)
                if result is None:
                    continue
                name, data = result if isinstance(result, tuple) else (result, "{}")
                yield f"event: {name}\ndata: {data}\n\n"
        finally:
            hot.bus.unlisten(queue)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
