"""Ingest MixMonitor's files of one call into storage and the database, when the call ends.

Naming (agreed with telephony): the dialplan runs
``MixMonitor(hotline/${UNIQUEID}.wav,r(hotline/${UNIQUEID}-in.wav)t(hotline/${UNIQUEID}-out.wav))``
on the caller's channel, so under ``/var/spool/asterisk/monitor/hotline/`` there are:
- ``<uniqueid>.wav``      both directions mixed, for listening;
- ``<uniqueid>-in.wav``   r(): what Asterisk *receives* from the caller's channel = the caller's voice;
- ``<uniqueid>-out.wav``  t(): what Asterisk *transmits* to the caller = the agent's voice.
Ingest is idempotent: a file already stored with the same checksum is skipped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from recordings import audio
from recordings.context import RecordingsContext
from recordings.events import RecordingStored
from recordings.orm import Recording, RecordingDecision, RecordingFile

MIXMONITOR_FILES = {"mixed": "{uid}.wav", "caller": "{uid}-in.wav", "agent": "{uid}-out.wav"}
ORIGINAL_KINDS = tuple(MIXMONITOR_FILES)


class NoRecordingFiles(FileNotFoundError):
    """MixMonitor left no file for this call in the directory."""


class RecordingNotAllowed(PermissionError):
    """The stored consent decision for this call says it must not be recorded."""


@dataclass
class IngestResult:
    recording_id: int
    created: bool
    stored: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Found:
    kind: str
    data: bytes
    sha256: str
    info: audio.AudioInfo


def storage_key(started_at: datetime, call_id: str, kind: str, extension: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", call_id).strip(".") or "call"
    return f"{started_at:%Y/%m/%d}/{safe}/{kind}.{extension}"


def find_files(directory: Path, uniqueid: str) -> list[_Found]:
    found = []
    for kind, pattern in MIXMONITOR_FILES.items():
        path = directory / pattern.format(uid=uniqueid)
        if path.is_file():
            data = path.read_bytes()
            found.append(_Found(kind, data, hashlib.sha256(data).hexdigest(), audio.describe(data)))
    return found


def features_of(found: list[_Found]) -> dict[str, Any]:
    """Per-leg loudness (1-second RMS in dBFS) for the raised-voice sampling rule."""
    features: dict[str, Any] = {}
    for item in found:
        if item.kind in {"caller", "agent"}:
            samples, rate = audio.read_mono(item.data)
            levels = audio.window_dbfs(samples, rate)
            features[f"{item.kind}_loud_s"] = audio.loud_seconds(levels)
            features[f"{item.kind}_max_dbfs"] = max(levels) if levels else None
    return features


def ingest(
    ctx: RecordingsContext,
    call_id: str,
    directory: Path,
    *,
    uniqueid: str | None = None,
    agent: str | None = None,
    queue: str | None = None,
    caller_number: str | None = None,
    started_at: datetime | None = None,
    order_numbers: Iterable[str] = (),
) -> IngestResult:
    found = find_files(directory, uniqueid or call_id)
    if not found:
        raise NoRecordingFiles(f"no MixMonitor file for {uniqueid or call_id} in {directory}")
    duration_ms = max(item.info.duration_ms for item in found)
    mixed = next((item for item in found if item.kind == "mixed"), found[0])
    now = ctx.clock.now()
    with ctx.session_factory() as session, session.begin():
        decision = session.scalar(select(RecordingDecision).where(RecordingDecision.call_id == call_id))
        if decision is not None and not decision.record:
            raise RecordingNotAllowed(f"call {call_id} must not be recorded ({decision.reason})")
        recording = session.scalar(select(Recording).where(Recording.call_id == call_id))
        created = recording is None
        if recording is None:
            recording = Recording(
                call_id=call_id,
                agent=agent,
                queue=queue,
                duration_ms=duration_ms,
                retention_state="active",
                started_at=started_at or now - timedelta(milliseconds=duration_ms),
                order_numbers=sorted(set(order_numbers)),
                created_at=now,
                features={},
                waveform=audio.peaks(audio.read_mono(mixed.data)[0]),
            )
            session.add(recording)
            session.flush()
        else:
            recording.agent = agent or recording.agent
            recording.queue = queue or recording.queue
            recording.order_numbers = sorted(set(recording.order_numbers) | set(order_numbers))
        result = IngestResult(recording.id, created)
        existing = {f.kind: f for f in recording.files}
        for item in found:
            row = existing.get(item.kind)
            if row is not None and row.sha256 == item.sha256 and row.deleted_at is None:
                result.unchanged.append(item.kind)
                continue
            key = storage_key(recording.started_at, call_id, item.kind, "wav")
            size = ctx.store.put(key, item.data)
            if row is None:
                row = RecordingFile(recording_id=recording.id, kind=item.kind)
                recording.files.append(row)
            row.storage_key, row.format, row.sample_rate = key, item.info.format, item.info.sample_rate
            row.channels, row.duration_ms, row.size_bytes = item.info.channels, item.info.duration_ms, size
            row.sha256, row.created_at, row.deleted_at = item.sha256, now, None
            result.stored.append(item.kind)
        if result.stored:
            recording.duration_ms = max(recording.duration_ms, duration_ms)
            recording.features = {**recording.features, **features_of(found)}
        event = RecordingStored(
            recording.id, call_id, recording.agent, recording.duration_ms, tuple(result.stored)
        )
    if result.stored:
        ctx.bus.publish(event)
    return result
