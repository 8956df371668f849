"""A read-only port onto asr's transcript segments, to show them aligned to the recording's time line.

Screens show the redacted text only (asr audits reading the unmasked one)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import column, inspect, select, table, true
from sqlalchemy.orm import Session, sessionmaker

_segments = table(
    "transcript_segments",
    column("call_id"),
    column("leg"),
    column("start_ms"),
    column("end_ms"),
    column("text_redacted"),
    column("is_final"),
)


@dataclass(frozen=True)
class Segment:
    leg: str  # caller | agent
    start_ms: int
    end_ms: int
    text: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@runtime_checkable
class TranscriptSource(Protocol):
    def segments(self, call_id: str) -> list[Segment]:
        """Final segments of both legs, in time order."""
        ...


class SqlTranscriptSource:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory
        self._present: bool | None = None

    def _table_present(self, session: Session) -> bool:
        if self._present is None:
            self._present = inspect(session.connection()).has_table("transcript_segments")
        return self._present

    def segments(self, call_id: str) -> list[Segment]:
        s = _segments.c
        with self.session_factory() as session:
            if not self._table_present(session):
                return []
            rows = session.execute(
                select(s.leg, s.start_ms, s.end_ms, s.text_redacted)
                .where(s.call_id == call_id, s.is_final == true())
                .order_by(s.start_ms, s.leg)
            )
            return [Segment(str(r.leg), int(r.start_ms), int(r.end_ms), str(r.text_redacted)) for r in rows]


class FakeTranscriptSource:
    def __init__(self, by_call: dict[str, Iterable[Segment]] | None = None) -> None:
        self.by_call = {k: sorted(v, key=lambda s: (s.start_ms, s.leg)) for k, v in (by_call or {}).items()}

    def segments(self, call_id: str) -> list[Segment]:
        return list(self.by_call.get(call_id, []))
