"""The big screen (大屏) for the command centre's wall, 1920×1080: its page and its live stream.

The stream sends the whole snapshot (``event: snapshot``) when a screen connects, every
:data:`PERIOD_SECONDS`, and within a second of anything that changes the picture (a new order, an alarm, a
call, a hot event). Snapshots are shared by every screen (analytics.bigscreen.SnapshotCache).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from agent_ui.deps import Hot, SupervisorUser
from agent_ui.rendering import render
from analytics.bigscreen import snapshot_cache
from analytics.wiring import AnalyticsParts

router = APIRouter()
PERIOD_SECONDS = 5.0


def analytics_parts(request: Request) -> AnalyticsParts:
    parts = getattr(request.app.state, "analytics", None)
    if not isinstance(parts, AnalyticsParts):
        raise HTTPException(404, "analytics is not installed")
    return parts


@router.get("/bigscreen")
def bigscreen_page(request: Request, user: SupervisorUser, hot: Hot) -> Response:
    analytics_parts(request)
    return render(request, "bigscreen.html", {})


@router.get("/bigscreen/data")
def bigscreen_data(request: Request, user: SupervisorUser) -> JSONResponse:
    parts = analytics_parts(request)
    return JSONResponse(snapshot_cache(request.app).get(parts))


@router.get("/bigscreen/stream")
async def bigscreen_stream(request: Request, user: SupervisorUser, hot: Hot) -> StreamingResponse:
    parts = analytics_parts(request)
    cache = snapshot_cache(request.app)
    lifetime: float = request.app.state.ui_sse_lifetime

    async def current() -> str:
        data = await asyncio.to_thread(cache.get, parts)
        return f"event: snapshot\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"

    async def stream() -> AsyncIterator[str]:
        queue = hot.bus.listen()
        try:
            yield "retry: 2000\n: connected\n\n"
            yield await current()
            loop = asyncio.get_running_loop()
            end = loop.time() + lifetime
            next_push = loop.time() + PERIOD_SECONDS
            while loop.time() < end:
                try:
                    await asyncio.wait_for(queue.get(), timeout=max(0.01, next_push - loop.time()))
                    await asyncio.sleep(1.0)  # let a burst of events settle into one snapshot
                    while not queue.empty():
                        queue.get_nowait()
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                yield await current()
                next_push = loop.time() + PERIOD_SECONDS
        finally:
            hot.bus.unlisten(queue)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
