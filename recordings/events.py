"""Events the recordings component publishes on the bus."""

from __future__ import annotations

from dataclasses import dataclass

from kernel.events import wire


@wire("recordings.recording_stored")
@dataclass(frozen=True)
class RecordingStored:
    recording_id: int
    call_id: str
    agent: str | None
    duration_ms: int
    kinds: tuple[str, ...]  # the files stored by this ingest: mixed, caller, agent


@wire("recordings.recording_compressed")
@dataclass(frozen=True)
class RecordingCompressed:
    recording_id: int
    call_id: str
    codec: str
    size_bytes: int


@wire("recordings.recording_deleted")
@dataclass(frozen=True)
class RecordingDeleted:
    recording_id: int
    call_id: str
    what: str  # originals | recording


@wire("recordings.recording_ingested")
@dataclass(frozen=True)
class RecordingIngested:
    """What became of a call's recording when the call ended (see orm.RecordingIngest for the outcomes);
    ``missing`` and ``failed`` deserve an operator's look."""

    call_id: str
    outcome: str  # stored | unchanged | declined | not_recorded | missing | failed
    recording_id: int | None
    detail: str
