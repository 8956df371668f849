"""Read models of recordings and quality review for the pages (the recordings component owns the tables and
serves the audio; every write goes through its services)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, func, inspect, select
from sqlalchemy.orm import Session

from agent_ui.parts import DeskParts
from recordings.orm import QaReview, QaSample, Recording
from recordings.transcripts import Segment

PAGE_SIZE = 50


@dataclass(frozen=True)
class RecordingQuery:
    """The list's filters, as typed in the form (validated by ``parse_filters``)."""

    date_from: date | None = None
    date_to: date | None = None  # inclusive, a local day
    agent: str = ""
    queue: str = ""
    caller: str = ""  # digits the caller's number contains
    has_order: str = ""  # "", "yes", "no"


@dataclass(frozen=True)
class RecordingRow:
    id: int
    call_id: str
    agent: str
    queue: str
    caller: str
    started_at: datetime
    duration_seconds: float
    order_numbers: tuple[str, ...]
    retention_state: str

    @property
    def audio_url(self) -> str:
        return f"/api/recordings/{self.id}/audio"


def parse_filters(params: dict[str, str], lang: str) -> tuple[RecordingQuery, dict[str, str]]:
    errors: dict[str, str] = {}

    def day(name: str) -> date | None:
        raw = params.get(name, "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = "Enter a date like 2026-11-22" if lang == "en" else "请填写日期，如 2026-11-22"
            return None

    date_from, date_to = day("date_from"), day("date_to")
    if date_from and date_to and date_to < date_from:
        errors["date_to"] = (
            "The end date is before the start date" if lang == "en" else "结束日期早于开始日期"
        )
    caller = params.get("caller", "").strip().replace("-", "").replace(" ", "")
    if caller and not caller.isdigit():
        errors["caller"] = "Digits only" if lang == "en" else "号码只能包含数字"
    has_order = params.get("has_order", "").strip()
    if has_order not in ("", "yes", "no"):
        errors["has_order"] = "Choose yes, no or any" if lang == "en" else "请选择有、无或不限"
    query = RecordingQuery(
        date_from,
        date_to,
        params.get("agent", "").strip()[:64],
        params.get("queue", "").strip()[:64],
        caller[:32],
        has_order,
    )
    return query, errors


def _row(r: Recording) -> RecordingRow:
    return RecordingRow(
        r.id,
        r.call_id,
        r.agent or "",
        r.queue or "",
        r.caller_number or "",
        r.started_at,
        r.duration_ms / 1000,
        tuple(r.order_numbers or ()),
        r.retention_state,
    )


def find(session: Session, q: RecordingQuery, tz: ZoneInfo, limit: int = PAGE_SIZE) -> list[RecordingRow]:
    query = (
        select(Recording)
        .where(Recording.deleted_at.is_(None))
        .order_by(Recording.started_at.desc(), Recording.id.desc())
    )
    if q.date_from:
        query = query.where(Recording.started_at >= datetime.combine(q.date_from, time(), tz))
    if q.date_to:
        query = query.where(
            Recording.started_at < datetime.combine(q.date_to + timedelta(days=1), time(), tz)
        )
    if q.agent:
        query = query.where(Recording.agent == q.agent)
    if q.queue:
        query = query.where(Recording.queue == q.queue)
    if q.caller:
        query = query.where(Recording.caller_number.contains(q.caller, autoescape=True))
    empty = cast(Recording.order_numbers, String).in_(["[]", ""])
    if q.has_order == "yes":
        query = query.where(Recording.order_numbers.is_not(None), ~empty)
    elif q.has_order == "no":
        query = query.where((Recording.order_numbers.is_(None)) | empty)
    return [_row(r) for r in session.scalars(query.limit(limit))]


def facets(session: Session) -> tuple[list[str], list[str]]:
    """The agents and queues that have recordings (for the filter's choices)."""
    agents = session.scalars(select(Recording.agent).where(Recording.agent.is_not(None)).distinct())
    queues = session.scalars(select(Recording.queue).where(Recording.queue.is_not(None)).distinct())
    return sorted(a for a in agents if a), sorted(q for q in queues if q)


def get(session: Session, recording_id: int) -> RecordingRow | None:
    r = session.get(Recording, recording_id)
    if r is None or r.deleted_at is not None:
        return None
    return _row(r)


def segments(hot: DeskParts, call_id: str) -> list[Segment]:
    return hot.transcripts.segments(call_id)


# ---- quality review ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    recording_id: int
    call_id: str
    agent: str
    reasons: tuple[str, ...]  # random, complaint, long_silence, raised_voice
    day: date
    started_at: datetime
    duration_seconds: float


def review_queue(session: Session, limit: int = 200) -> list[QueueItem]:
    """Sampled calls not reviewed yet (one line per call, with every reason it was picked for), oldest
    sampling day first."""
    rows = session.execute(
        select(QaSample, Recording.started_at, Recording.duration_ms)
        .join(Recording, Recording.id == QaSample.recording_id)
        .where(QaSample.review_id.is_(None), Recording.deleted_at.is_(None))
        .order_by(QaSample.sampled_on, QaSample.id)
        .limit(limit)
    ).all()
    items: dict[int, QueueItem] = {}
    for s, started_at, duration_ms in rows:
        seen = items.get(s.recording_id)
        if seen is not None:
            items[s.recording_id] = QueueItem(
                seen.recording_id,
                seen.call_id,
                seen.agent,
                (*seen.reasons, s.reason),
                seen.day,
                seen.started_at,
                seen.duration_seconds,
            )
            continue
        items[s.recording_id] = QueueItem(
            s.recording_id,
            s.call_id,
            s.agent or "",
            (s.reason,),
            s.sampled_on,
            started_at,
            duration_ms / 1000,
        )
    return list(items.values())


@dataclass(frozen=True)
class ReviewRow:
    id: int
    recording_id: int | None
    agent: str
    reviewer: str
    total: float
    failed: bool
    comments: str
    created_at: datetime


def recent_reviews(session: Session, limit: int = 30, agent: str | None = None) -> list[ReviewRow]:
    query = select(QaReview).order_by(QaReview.created_at.desc(), QaReview.id.desc()).limit(limit)
    if agent:
        query = query.where(QaReview.agent == agent)
    return [
        ReviewRow(r.id, r.recording_id, r.agent, r.reviewer, r.total, r.failed, r.comments, r.created_at)
        for r in session.scalars(query)
    ]


@dataclass(frozen=True)
class AgentSummary:
    agent: str
    reviews: int
    average: float
    failed: int
    last_at: datetime


def agents_summary(session: Session) -> list[AgentSummary]:
    rows = session.execute(
        select(
            QaReview.agent,
            func.count(),
            func.avg(QaReview.total),
            func.max(QaReview.created_at),
        ).group_by(QaReview.agent)
    ).all()
    out = []
    for agent, count, avg, last in rows:
        failed = int(
            session.scalar(
                select(func.count())
                .select_from(QaReview)
                .where(QaReview.agent == agent, QaReview.failed.is_(True))
            )
            or 0
        )
        out.append(AgentSummary(agent, int(count), round(float(avg or 0), 1), failed, last))
    return sorted(out, key=lambda a: a.agent)


def table_exists(session: Session, name: str) -> bool:
    return bool(inspect(session.connection()).has_table(name))
