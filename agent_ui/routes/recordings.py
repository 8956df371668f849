"""Recordings: the list with a player (the recordings component serves the audio with range requests)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from agent_ui.deps import Hot, RecordingsUser
from agent_ui.ports import recordings_catalog
from agent_ui.rendering import render

router = APIRouter()


@router.get("/recordings")
def recordings(request: Request, user: RecordingsUser, hot: Hot) -> Response:
    port = recordings_catalog(hot)
    rows = port.recent(50) if port else []
    return render(request, "recordings.html", {"connected": port is not None, "rows": rows})
