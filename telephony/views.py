"""Telephony's published read models: what other components (analytics, the big screen) may know about calls
without reading telephony's tables. Counts only; a caller's number leaves through :func:`caller_numbers`
alone, for the migratory-bird analysis, and never reaches a page or a log.

Definitions (the sources of docs/kpis.md):
- offered: every inbound call that reached the switch (started), by the local day it started;
- queued: the IVR put it in a queue (asked for an agent); answered: an agent answered;
- abandoned in queue: queued, never answered, no callback asked; ended in IVR: hung up before any queue;
- answered within 15 s: queue wait (queued → answered) ≤ 15 s (GB/T 33358-2016);
- missed and called back (漏接回拨, 国办函〔2025〕66号): abandoned in queue, and the same number was answered
  within 24 hours afterwards (a new call or the callback-in-queue).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, case, exists, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session, aliased

from kernel.sqltime import bucket, local_day
from telephony.orm import CallRow, QueueCallbackRow

CallDimension = Literal["all", "agent", "queue"]
SERVICE_LEVEL_SECONDS = 15
CALL_METRICS = (
    "calls_offered",
    "calls_queued",
    "calls_answered",
    "calls_abandoned_queue",
    "calls_ended_in_ivr",
    "calls_callback_requested",
    "answered_within_15s",
    "answer_wait_seconds",
    "talk_seconds",
    "missed_called_back",
)


def call_facts(
    session: Session,
    since: datetime | None,
    until: datetime | None,
    by: CallDimension = "all",
    *,
    per_day: bool = True,
) -> dict[tuple[int | None, str], Counter[str]]:
    dialect = session.get_bind().dialect.name
    c = CallRow
    later = aliased(CallRow)
    # SQLite keeps times as text and has no interval arithmetic: datetime(t, '+24 hours') instead.
    day_after = (
        func.datetime(c.started_at, "+24 hours")
        if dialect == "sqlite"
        else c.started_at + literal_column("interval '24 hours'")
    )
    called_back = or_(
        exists().where(
            later.caller_number == c.caller_number,
            later.started_at > c.started_at,
            later.started_at < day_after,
            later.answered_at.is_not(None),
        ),
        exists().where(QueueCallbackRow.call_id == c.call_id, QueueCallbackRow.state == "done"),
    )
    day = local_day(c.started_at, dialect) if per_day else literal(None)
    dim = {"all": literal(""), "agent": func.coalesce(c.agent, ""), "queue": func.coalesce(c.queue, "")}[by]
    answered = c.answered_at.is_not(None)
    abandoned = c.outcome == "abandoned"

    def count_if(cond: Any, name: str) -> Any:
        return func.sum(case((cond, 1), else_=0)).label(name)

    stmt = (
        select(
            day.label("day"),
            dim.label("dim"),
            func.count().label("calls_offered"),
            count_if(c.queued_at.is_not(None), "calls_queued"),
            count_if(answered, "calls_answered"),
            count_if(abandoned, "calls_abandoned_queue"),
            count_if(c.outcome == "ivr_only", "calls_ended_in_ivr"),
            count_if(c.outcome.in_(["callback_requested", "called_back"]), "calls_callback_requested"),
            count_if(and_(answered, c.queue_wait_seconds <= SERVICE_LEVEL_SECONDS), "answered_within_15s"),
            func.sum(case((answered, c.queue_wait_seconds), else_=0)).label("answer_wait_seconds"),
            func.sum(case((answered, c.talk_seconds), else_=0)).label("talk_seconds"),
            count_if(and_(abandoned, called_back), "missed_called_back"),
        )
        .where(
            *([c.started_at >= since] if since else []),
            *([c.started_at < until] if until else []),
            c.outcome != "in_progress",
        )
        .group_by(day, dim)
    )
    out: dict[tuple[int | None, str], Counter[str]] = defaultdict(Counter)
    for row in session.execute(stmt):
        m = row._mapping
        key = (int(m["day"]) if m["day"] is not None else None, str(m["dim"] or ""))
        for name in CALL_METRICS:
            value = m[name]
            if value:
                out[key][name] += round(float(value)) if name.endswith("seconds") else int(value)
    return dict(out)


def calls_per_interval(
    session: Session, since: datetime, until: datetime, seconds: int = 1800
) -> dict[int, int]:
    """Calls offered per local interval (bucket index → calls), for the forecast."""
    b = bucket(CallRow.started_at, session.get_bind().dialect.name, seconds)
    rows = session.execute(
        select(b, func.count()).where(CallRow.started_at >= since, CallRow.started_at < until).group_by(b)
    )
    return {int(k): int(n) for k, n in rows}


def average_handle_seconds(session: Session, since: datetime, until: datetime) -> float | None:
    value = session.scalar(
        select(func.avg(CallRow.talk_seconds)).where(
            CallRow.started_at >= since, CallRow.started_at < until, CallRow.answered_at.is_not(None)
        )
    )
    return float(value) if value is not None else None


@dataclass(frozen=True)
class LiveCalls:
    waiting: int
    in_talk: int
    longest_wait_seconds: int


def live_calls(session: Session, now: datetime, stale_after: timedelta = timedelta(hours=6)) -> LiveCalls:
    """Calls in a queue now and calls in talk now (rows of calls that never ended are ignored after 6 h)."""
    c = CallRow
    recent = [c.ended_at.is_(None), c.started_at >= now - stale_after]
    waiting_since = session.execute(
        select(func.count(), func.min(c.queued_at)).where(
            *recent, c.queued_at.is_not(None), c.answered_at.is_(None)
        )
    ).one()
    in_talk = session.scalar(select(func.count()).where(*recent, c.answered_at.is_not(None))) or 0
    longest = int((now - waiting_since[1]).total_seconds()) if waiting_since[1] is not None else 0
    return LiveCalls(int(waiting_since[0] or 0), int(in_talk), max(0, longest))


def caller_numbers(session: Session, since: datetime, until: datetime) -> Iterable[tuple[datetime, str]]:
    """(started, caller number) of answered calls: only for the home-province analysis, never shown."""
    for row in session.execute(
        select(CallRow.started_at, CallRow.caller_number)
        .where(CallRow.started_at >= since, CallRow.started_at < until, CallRow.answered_at.is_not(None))
        .execution_options(yield_per=5000)
    ):
        yield row.started_at, row.caller_number


def first_call_at(session: Session) -> datetime | None:
    value: datetime | None = session.scalar(select(func.min(CallRow.started_at)))
    return value
