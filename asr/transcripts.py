"""Storing and reading transcripts: the store port (SQL adapter and in-memory fake) and the masked read.

Every screen gets ``text_redacted``. The unmasked text is given only to roles in ``REVEAL_ROLES`` and each
such read is written to transcript_reveals (who, role, why, when) before the text is returned.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from asr.events import Leg, TranscriptSegment
from asr.orm import TranscriptRevealRow, TranscriptSegmentRow
from kernel.db import transaction

REVEAL_ROLES = frozenset({"supervisor", "qa", "admin"})


class RevealRefused(PermissionError):
    pass


class SegmentStore(Protocol):
    def save(self, segment: TranscriptSegment) -> None: ...

    def for_call(self, call_id: str) -> list[TranscriptSegment]: ...

    def audit_reveal(self, call_id: str, actor: str, role: str, reason: str, now: datetime) -> None: ...


class SqlSegmentStore:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory

    def save(self, segment: TranscriptSegment) -> None:
        if not segment.is_final:
            return  # partials are pushed, never stored
        with transaction(self._factory) as session:
            # Idempotent on (call, leg, seq): an event the broker delivered twice is stored once (seq 0:
            # a segment not numbered by a live session, stored as it comes).
            exists = segment.seq and session.scalar(
                select(TranscriptSegmentRow.id).where(
                    TranscriptSegmentRow.call_id == segment.call_id,
                    TranscriptSegmentRow.leg == segment.leg,
                    TranscriptSegmentRow.seq == segment.seq,
                )
            )
            if exists:
                return
            session.add(
                TranscriptSegmentRow(
                    call_id=segment.call_id,
                    leg=segment.leg,
                    seq=segment.seq,
                    start_ms=segment.start_ms,
                    end_ms=segment.end_ms,
                    text=segment.text,
                    text_redacted=segment.text_redacted,
                    is_final=True,
                    engine=segment.engine,
                    created_at=segment.created_at,
                )
            )

    def for_call(self, call_id: str) -> list[TranscriptSegment]:
        with self._factory() as session:
            rows = session.scalars(
                select(TranscriptSegmentRow)
                .where(TranscriptSegmentRow.call_id == call_id)
                .order_by(TranscriptSegmentRow.start_ms, TranscriptSegmentRow.id)
            )
            return [_segment(r) for r in rows]

    def audit_reveal(self, call_id: str, actor: str, role: str, reason: str, now: datetime) -> None:
        with transaction(self._factory) as session:
            session.add(
                TranscriptRevealRow(call_id=call_id, actor=actor, role=role, reason=reason, revealed_at=now)
            )


def _segment(row: TranscriptSegmentRow) -> TranscriptSegment:
    leg: Leg = row.leg  # type: ignore[assignment]
    return TranscriptSegment(
        call_id=row.call_id,
        leg=leg,
        start_ms=row.start_ms,
        end_ms=row.end_ms,
        text=row.text,
        text_redacted=row.text_redacted,
        is_final=row.is_final,
        engine=row.engine,
        created_at=row.created_at,
        seq=row.seq,
    )


@dataclass
class InMemorySegmentStore:
    segments: list[TranscriptSegment]
    reveals: list[tuple[str, str, str, str, datetime]]

    def __init__(self) -> None:
        self.segments = []
        self.reveals = []

    def save(self, segment: TranscriptSegment) -> None:
        if segment.is_final:
            self.segments.append(segment)

    def for_call(self, call_id: str) -> list[TranscriptSegment]:
        return sorted((s for s in self.segments if s.call_id == call_id), key=lambda s: s.start_ms)

    def audit_reveal(self, call_id: str, actor: str, role: str, reason: str, now: datetime) -> None:
        self.reveals.append((call_id, actor, role, reason, now))


def masked_transcript(store: SegmentStore, call_id: str) -> list[TranscriptSegment]:
    """What any screen shows: the raw text replaced by the masked one."""
    return [replace(s, text=s.text_redacted) for s in store.for_call(call_id)]


def revealed_transcript(
    store: SegmentStore, call_id: str, *, actor: str, role: str, reason: str, now: datetime
) -> list[TranscriptSegment]:
    """The unmasked transcript for an allowed role; the read is audited first."""
    if role not in REVEAL_ROLES:
        raise RevealRefused(f"角色 {role} 无权查看未脱敏转写 / role {role} may not read unmasked transcripts")
    if not reason.strip():
        raise RevealRefused("查看未脱敏转写须说明理由 / a reason is required")
    store.audit_reveal(call_id, actor, role, reason.strip(), now)
    return store.for_call(call_id)
