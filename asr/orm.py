"""Tables of the speech-recognition component (migration branch "asr", revisions a…).

Only finals are stored — partials are pushed to screens and forgotten. ``text`` is what the engine heard,
``text_redacted`` the masked text every screen shows; reading ``text`` is audited in transcript_reveals.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import Base, UTCDateTime


class TranscriptSegmentRow(Base):
    __tablename__ = "transcript_segments"
    __table_args__ = (Index("ix_transcript_segments_call", "call_id", "start_ms"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64))
    leg: Mapped[str] = mapped_column(String(8))
    seq: Mapped[int] = mapped_column(Integer, default=0)
    start_ms: Mapped[int] = mapped_column(Integer)
    end_ms: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    text_redacted: Mapped[str] = mapped_column(Text)
    is_final: Mapped[bool] = mapped_column(Boolean, default=True)
    engine: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TranscriptRevealRow(Base):
    """Who read a call's unmasked transcript, when, in which role and why."""

    __tablename__ = "transcript_reveals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(200))
    revealed_at: Mapped[datetime] = mapped_column(UTCDateTime)
