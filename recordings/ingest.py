"""Ingest MixMonitor's files of one call into storage and the database.

The files and their names are described in ``spool.py`` (mixed ``<uniqueid>.wav``, the caller's voice
``<uniqueid>-caller.wav``, what the caller heard ``<uniqueid>-agent.wav``; the older ``-in``/``-out`` names
are read too). ``wiring.py`` calls this when telephony reports that a call ended; the CLI calls it by hand.
Ingest is idempotent: a file already stored with the same checksum is skipped. A file the switch never
closed (header sizes still zero) is stored with its header repaired, so that nothing recorded is lost.
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

from recordings import audio, spool
from recordings.context import RecordingsContext
from recordings.events import RecordingStored
from recordings.orm import Recording, RecordingDecision, RecordingFile

ORIGINAL_KINDS = tuple(spool.SPOOL_NAMES)  # mixed, caller, agent


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
    repaired: list[str] = field(default_factory=list)  # stored with a header the switch never wrote
    paths: dict[str, Path] = field(default_factory=dict)  # the spool files now safely stored
    duration_ms: int = 0
    size_bytes: int = 0


@dataclass(frozen=True)
class _Found:
    kind: str
    data: bytes
    sha256: str
    info: audio.AudioInfo
    path: Path
    repaired: bool = False


def storage_key(started_at: datetime, call_id: str, kind: str, extension: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", call_id).strip(".") or "call"
    return f"{started_at:%Y/%m/%d}/{safe}/{kind}.{extension}"


def find_files(directory: Path, uniqueid: str) -> list[_Found]:
    found = []
    for kind, path in spool.files_of(directory, uniqueid).items():
        raw = path.read_bytes()
        data = spool.repair_header(raw)
        found.append(
            _Found(kind, data, hashlib.sha256(data).hexdigest(), audio.describe(data), path, data is not raw)
        )
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
    ended_at: datetime | None = None,
    order_numbers: Iterable[str] = (),
    legs: list[dict[str, Any]] | None = None,
    call_outcome: str | None = None,
    transcript: dict[str, Any] | None = None,
) -> IngestResult:
    """Store the call's files and its row. ``started_at`` is when MixMonitor started (the caller joined
    the queue); without it, the end of the call (or now) minus the recording's length."""
    found = find_files(directory, uniqueid or call_id)
    if not found:
        raise NoRecordingFiles(f"no MixMonitor file for {uniqueid or call_id} in {directory}")
    duration_ms = max(item.info.duration_ms for item in found)
    mixed = next((item for item in found if item.kind == "mixed"), found[0])
    now = ctx.clock.now()
    if started_at is None:
        started_at = (ended_at or now) - timedelta(milliseconds=duration_ms)
    with ctx.writer() as session, session.begin():
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
                caller_number=caller_number or None,
                duration_ms=duration_ms,
                retention_state="active",
                started_at=started_at,
                order_numbers=sorted(set(order_numbers)),
                created_at=now,
                features={},
                legs=list(legs or []),
                call_outcome=call_outcome,
                transcript=transcript,
                waveform=audio.peaks(audio.read_mono(mixed.data)[0]),
            )
            session.add(recording)
            session.flush()
        else:
            recording.agent = agent or recording.agent
            recording.queue = queue or recording.queue
            recording.caller_number = caller_number or recording.caller_number
            recording.order_numbers = sorted(set(recording.order_numbers) | set(order_numbers))
            recording.legs = list(legs) if legs else recording.legs
            recording.call_outcome = call_outcome or recording.call_outcome
            recording.transcript = transcript or recording.transcript
        result = IngestResult(recording.id, created)
        existing = {f.kind: f for f in recording.files}
        for item in found:
            row = existing.get(item.kind)
            result.paths[item.kind] = item.path
            if row is not None and row.sha256 == item.sha256 and row.deleted_at is None:
                result.unchanged.append(item.kind)
                continue
            if item.repaired:
                result.repaired.append(item.kind)
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
        result.duration_ms = recording.duration_ms
        result.size_bytes = sum(f.size_bytes for f in recording.files if f.deleted_at is None)
        event = RecordingStored(
            recording.id, call_id, recording.agent, recording.duration_ms, tuple(result.stored)
        )
    if result.stored:
        ctx.bus.publish(event)
    return result
