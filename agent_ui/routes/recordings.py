"""Recordings for supervisors and QA: the list with filters, and a player page with the transcript beside it.

The audio itself is served by the recordings component (``/api/recordings/{id}/audio``) with HTTP range
requests, so the browser's <audio> element can seek; that API audits every range it sends. This page audits
the view of the transcript (recordings' listening audit, mirrored into the desk's access audit) and every
unmasked caller number it shows.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from agent_ui import recording_views as rv
from agent_ui.deps import Hot, Lang, RecordingsUser, Users
from agent_ui.rendering import render
from agent_ui.roles import FULL_PHONE_ROLES
from kernel.text import RowId
from recordings.access import ListenAudit, Listener

router = APIRouter()

FILTER_FIELDS = ("date_from", "date_to", "agent", "queue", "caller", "has_order")


def _client(request: Request) -> str:
    return request.client.host if request.client else ""


@router.get("/recordings")
def recordings(request: Request, user: RecordingsUser, hot: Hot, users: Users, lang: Lang) -> Response:
    params = {k: request.query_params.get(k, "") for k in FILTER_FIELDS}
    query, errors = rv.parse_filters(params, lang)
    rows: list[rv.RecordingRow] = []
    with hot.session_factory() as session:
        if not errors:
            rows = rv.find(session, query, ZoneInfo(hot.settings.timezone))
        agents, queues = rv.facets(session)
    full = user.role in FULL_PHONE_ROLES
    shown = [r for r in rows if r.caller]
    if full and shown:
        users.audit(
            user.username,
            user.role.value,
            "view_phone",
            "recordings list",
            " ".join(f"recording:{r.id}" for r in shown)[:2000],
            _client(request),
        )
    return render(
        request,
        "recordings.html",
        {
            "rows": rows,
            "values": params,
            "errors": errors,
            "agents": agents,
            "queues": queues,
            "full_phone": full,
        },
        status_code=422 if errors else 200,
    )


@router.get("/recordings/{recording_id}")
def player(request: Request, recording_id: RowId, user: RecordingsUser, hot: Hot, users: Users) -> Response:
    with hot.session_factory() as session:
        row = rv.get(session, recording_id)
    if row is None:
        raise HTTPException(404)
    segments = rv.segments(hot, row.call_id)
    ListenAudit(hot.session_factory, hot.clock.now).record(
        Listener(user.username, user.role.value), recording_id, "transcript", client=_client(request)
    )
    full = user.role in FULL_PHONE_ROLES
    if full and row.caller:
        users.audit(
            user.username,
            user.role.value,
            "view_phone",
            f"recording:{recording_id}",
            "player",
            _client(request),
        )
    return render(
        request,
        "recording.html",
        {"rec": row, "segments": segments, "full_phone": full},
    )
