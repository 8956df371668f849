"""Read models of recordings for the API, the CLI and the web desk's catalog port."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session, selectinload

from recordings.orm import Recording, RecordingFile

PLAYABLE_ORDER = ("mixed", "compressed")  # what "the recording" means when no kind is asked for


@dataclass(frozen=True)
class RecordingFilter:
    date_from: datetime | None = None
    date_to: datetime | None = None
    agent: str | None = None
    call_id: str | None = None
    order: str | None = None
    include_deleted: bool = False
    limit: int = 50
    offset: int = 0


def file_json(f: RecordingFile) -> dict[str, Any]:
    return {
        "kind": f.kind,
        "format": f.format,
        "sample_rate": f.sample_rate,
        "channels": f.channels,
        "duration_ms": f.duration_ms,
        "size_bytes": f.size_bytes,
        "sha256": f.sha256,
        "created_at": f.created_at.isoformat(),
        "deleted_at": f.deleted_at.isoformat() if f.deleted_at else None,
    }


def recording_json(r: Recording, *, with_files: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": r.id,
        "call_id": r.call_id,
        "agent": r.agent,
        "queue": r.queue,
        "started_at": r.started_at.isoformat(),
        "duration_ms": r.duration_ms,
        "retention_state": r.retention_state,
        "order_numbers": list(r.order_numbers),
        "kinds": sorted(f.kind for f in r.files if f.deleted_at is None),
        "audio_url": f"/api/recordings/{r.id}/audio",
        "call_outcome": r.call_outcome,
        "transcript": dict(r.transcript) if r.transcript else None,
    }
    if with_files:
        data["files"] = [file_json(f) for f in r.files]
        data["features"] = dict(r.features)
        data["legs"] = list(r.legs)
    return data


def find_recordings(session: Session, flt: RecordingFilter) -> list[Recording]:
    query = (
        select(Recording)
        .options(selectinload(Recording.files))
        .order_by(Recording.started_at.desc(), Recording.id.desc())
    )
    if not flt.include_deleted:
        query = query.where(Recording.deleted_at.is_(None))
    if flt.date_from:
        query = query.where(Recording.started_at >= flt.date_from)
    if flt.date_to:
        query = query.where(Recording.started_at < flt.date_to)
    if flt.agent:
        query = query.where(Recording.agent == flt.agent)
    if flt.call_id:
        query = query.where(Recording.call_id == flt.call_id)
    if flt.order:
        escaped = flt.order.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(cast(Recording.order_numbers, String).like(f'%"{escaped}"%', escape="\\"))
    return list(session.scalars(query.limit(flt.limit).offset(flt.offset)))


def playable_file(recording: Recording, kind: str | None) -> RecordingFile | None:
    live = {f.kind: f for f in recording.files if f.deleted_at is None}
    if kind:
        return live.get(kind)
    return next((live[k] for k in PLAYABLE_ORDER if k in live), None)


MEDIA_TYPES = {"wav": "audio/wav", "opus": "audio/ogg", "gsm": "audio/wav"}


@dataclass(frozen=True)
class CatalogEntry:
    """Matches agent_ui.ports.RecordingInfo field for field."""

    id: str
    call_id: str
    caller: str
    agent: str
    started_at: datetime
    duration_seconds: float
    url: str


class RecordingsCatalog:
    """The adapter for agent_ui's ``RecordingsCatalog`` port (``hot.extras["recordings_catalog"]``)."""

    def __init__(self, session_factory: Any) -> None:
        self.session_factory = session_factory

    def recent(self, limit: int = 50) -> list[CatalogEntry]:
        with self.session_factory() as session:
            return [
                CatalogEntry(
                    str(r.id),
                    r.call_id,
                    r.caller_number or "",
                    r.agent or "",
                    r.started_at,
                    r.duration_ms / 1000,
                    f"/api/recordings/{r.id}/audio",
                )
                for r in find_recordings(session, RecordingFilter(limit=limit))
            ]
