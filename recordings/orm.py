"""Tables of the recordings component: recordings and their files, listening audit, recording consent,
and quality review (scorecards, reviews, samples)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kernel.db import Base, JSONType, UTCDateTime


class Recording(Base):
    """One recorded call (MixMonitor's files of one Asterisk UNIQUEID)."""

    __tablename__ = "recordings"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    caller_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    duration_ms: Mapped[int] = mapped_column(Integer)
    # active -> compressed -> originals_purged -> deleted (see retention.py); "held" is derived, not stored
    retention_state: Mapped[str] = mapped_column(String(24), default="active")
    order_numbers: Mapped[list[str]] = mapped_column(JSONType, default=list)
    waveform: Mapped[list[list[float]]] = mapped_column(JSONType, default=list)  # [[min, max], ...]
    features: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # loudness per leg, for QA
    # telephony's view of the call when it ended: its channels (caller, agents rung, transfers) and outcome
    legs: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    call_outcome: Mapped[str | None] = mapped_column(String(24), nullable=True)
    # asr's transcript once it is closed: segments per leg, longest silence; None until linked
    transcript: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    files: Mapped[list[RecordingFile]] = relationship(
        back_populates="recording", cascade="all, delete-orphan", order_by="RecordingFile.id"
    )


class RecordingFile(Base):
    """One stored file of a recording: the mixed mix, each direction, or the compressed long-term copy."""

    __tablename__ = "recording_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # mixed | caller | agent | compressed
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    format: Mapped[str] = mapped_column(String(16))  # wav | opus | gsm
    sample_rate: Mapped[int] = mapped_column(Integer)
    channels: Mapped[int] = mapped_column(Integer, default=1)
    duration_ms: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    recording: Mapped[Recording] = relationship(back_populates="files")

    __table_args__ = (UniqueConstraint("recording_id", "kind", name="uq_recording_files_recording_kind"),)


class RecordingListen(Base):
    """Append-only: who listened to (or fetched) which recording, when, and which byte range."""

    __tablename__ = "recording_listens"
    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    listener: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(24))  # audio | transcript | play
    kind: Mapped[str] = mapped_column(String(16), default="")
    byte_range: Mapped[str] = mapped_column(String(64), default="")
    client: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class RecordingIngest(Base):
    """Append-only: what happened to each call's files when it ended (or when a sweep found them).

    ``outcome``: stored (files kept), unchanged (already stored), declined (the caller said no: files
    removed from the switch's spool), not_recorded (no MixMonitor ran: IVR only, callback, queue off),
    missing (the switch should have recorded but left nothing), failed (storage or database error: the
    files stay in the spool for the next sweep)."""

    __tablename__ = "recording_ingests"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")
    recording_id: Mapped[int | None] = mapped_column(
        ForeignKey("recordings.id", ondelete="SET NULL"), nullable=True
    )
    kinds: Mapped[list[str]] = mapped_column(JSONType, default=list)
    call_outcome: Mapped[str | None] = mapped_column(String(24), nullable=True)
    trigger: Mapped[str] = mapped_column(String(16))  # call_ended | sweep | cli
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    wait_ms: Mapped[int] = mapped_column(Integer, default=0)  # waiting for MixMonitor to close its files
    ingest_ms: Mapped[int] = mapped_column(Integer, default=0)  # reading, hashing, storing, the row
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class RecordingJobRun(Base):
    """One run of a recordings job (retention). A scheduled run claims its ``slot`` (job and local day)
    first, so that of several web processes only one runs it; a run started by hand has no slot."""

    __tablename__ = "recording_job_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    run_on: Mapped[date] = mapped_column(Date)
    slot: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | cli | api
    status: Mapped[str] = mapped_column(String(16))  # running | done | failed
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    report: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class QueueRecordingPolicy(Base):
    """Per-queue switch: record calls of this queue at all, and announce it to the caller first."""

    __tablename__ = "recording_queue_policies"
    queue: Mapped[str] = mapped_column(String(64), primary_key=True)
    record: Mapped[bool] = mapped_column(Boolean, default=True)
    announce: Mapped[bool] = mapped_column(Boolean, default=True)
    caller_may_decline: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RecordingDecision(Base):
    """What was decided for one call (record or not, and why), kept as evidence of consent."""

    __tablename__ = "recording_decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    queue: Mapped[str | None] = mapped_column(String(64), nullable=True)
    record: Mapped[bool] = mapped_column(Boolean)
    announce: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(32))  # default | queue_off | caller_declined | caller_agreed
    caller_choice: Mapped[str | None] = mapped_column(String(16), nullable=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class QaScorecard(Base):
    """A versioned scorecard; reviews point at the exact version they were scored with."""

    __tablename__ = "qa_scorecards"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("name", "version", name="uq_qa_scorecards_name_version"),)


class QaReview(Base):
    __tablename__ = "qa_reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int | None] = mapped_column(
        ForeignKey("recordings.id", ondelete="SET NULL"), nullable=True, index=True
    )
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    agent: Mapped[str] = mapped_column(String(64))
    reviewer: Mapped[str] = mapped_column(String(64))
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("qa_scorecards.id"))
    item_scores: Mapped[dict[str, float]] = mapped_column(JSONType)
    item_comments: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    total: Mapped[float] = mapped_column(Float)
    failed: Mapped[bool] = mapped_column(Boolean, default=False)
    comments: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_qa_reviews_agent_created_at", "agent", "created_at"),)


class QaSample(Base):
    """A call picked for review, and why (random share, complaint, long silence, raised voices)."""

    __tablename__ = "qa_samples"
    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[str] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(String(24))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    sampled_on: Mapped[date] = mapped_column(Date)
    review_id: Mapped[int | None] = mapped_column(
        ForeignKey("qa_reviews.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("recording_id", "reason", name="uq_qa_samples_recording_reason"),)
