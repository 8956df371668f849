"""Missed-call callback (漏接电话回拨, 国办函〔2025〕66号): every call the hotline did not answer is called back.

A call is *missed* when the citizen hung up while waiting in a queue (``abandoned``) or in the IVR before it
was done (``ivr_abandoned``: no route yet, no order state told). The call recorder (telephony/records.py)
notes it in the same transaction that closes the call, so no missed call is lost to a crash: it becomes a
callback request (``tel_queue_callbacks``, ``source`` abandoned_queue / abandoned_ivr) that the callback
service (telephony/queue_callback.py) places like one the citizen asked for — agent first, then the citizen —
inside the calling windows, never on a public holiday.

- **Due**: within ``within`` (30 min by default) of the first calling moment after the call: a call missed at
  night is due the next morning; the share called back in time is what supervisors watch.
- **One callback per citizen**: further missed calls of a number with a callback still owed join it
  (``missed_calls``); a citizen who calls again and is answered no longer needs one (cancelled,
  ``answered_inbound``).
- **Not callable**: a hidden or malformed number, or a hang-up within ``min_seconds`` (a misdial) is not
  called back; the call record still says it was abandoned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kernel.calling_hours import CallingHours, SkipDays, WorkdayCalendar, closed_days, parse_windows
from telephony.orm import CallRow, CallWorkOrderRow, QueueCallbackRow

if TYPE_CHECKING:
    from kernel.settings import Settings

MISSED_SOURCES = ("abandoned_queue", "abandoned_ivr")
REQUESTED_SOURCES = ("queue", "ivr")
CALLABLE = re.compile(r"^\+?[0-9]{5,20}$")
OWED = ("waiting", "placed", "connecting")


@dataclass(frozen=True)
class QueueCallbackPolicy:
    """When callbacks are placed, how soon they are due, and how often a citizen is tried."""

    hours: CallingHours = field(default_factory=lambda: CallingHours(((time(8), time(21)),)))
    within: timedelta = timedelta(minutes=30)
    retry_after: timedelta = timedelta(minutes=2)
    max_attempts: int = 3
    missed_enabled: bool = True
    min_seconds: float = 0.0

    def open_at(self, now: datetime) -> bool:
        return self.hours.open_at(now)

    def first_call(self, now: datetime) -> datetime:
        return self.hours.next_open(now)

    def due_by(self, now: datetime) -> datetime:
        """The hotline's promise for a call missed (or a callback asked for) at ``now``."""
        return self.first_call(now) + self.within


def queue_callback_policy(
    settings: Settings, calendar: WorkdayCalendar | None, *, retry_after: timedelta | None = None
) -> QueueCallbackPolicy:
    """``HOTLINE_QUEUE_CALLBACK_WINDOWS``, ``HOTLINE_CALLBACK_SKIP_DAYS`` (with the official calendar),
    ``HOTLINE_CALLBACK_MISSED_WITHIN_MINUTES``, ``..._MIN_SECONDS``, ``..._ENABLED``, the time zone."""
    skip: SkipDays = settings.callback_skip_days
    hours = CallingHours(
        parse_windows(settings.queue_callback_windows), settings.timezone, closed_days(calendar, skip)
    )
    base = QueueCallbackPolicy()
    return QueueCallbackPolicy(
        hours=hours,
        within=timedelta(minutes=settings.callback_missed_within_minutes),
        retry_after=retry_after if retry_after is not None else base.retry_after,
        max_attempts=settings.callback_max_attempts,
        missed_enabled=settings.callback_missed_enabled,
        min_seconds=settings.callback_missed_min_seconds,
    )


def callable_number(number: str) -> bool:
    return bool(CALLABLE.match(number.strip()))


def missed_kind(session: Session, call: CallRow) -> str | None:
    """abandoned_queue, abandoned_ivr, or None when the call was not missed (answered, served by the IVR,
    a callback was asked for)."""
    if call.answered_at is not None or call.outcome == "callback_requested":
        return None
    if call.queued_at is not None:
        return "abandoned_queue"
    if call.ivr_route == "hangup":
        return None  # the IVR ended it (the goodbye after an order query)
    told = session.scalar(
        select(CallWorkOrderRow.id).where(CallWorkOrderRow.call_id == call.call_id).limit(1)
    )
    if told is not None:
        return None  # the caller heard their order's state: the IVR answered them
    return "abandoned_ivr"


def note_missed_call(
    session: Session, call: CallRow, now: datetime, policy: QueueCallbackPolicy
) -> str | None:
    """Inside the transaction that closes ``call``: owe the citizen a callback when the call was missed.
    Returns the kind of missed call (``abandoned_queue``, ``abandoned_ivr``) or None."""
    kind = missed_kind(session, call)
    if kind is None:
        return None
    call.outcome = "abandoned" if kind == "abandoned_queue" else "ivr_abandoned"
    if not policy.missed_enabled or not callable_number(call.caller_number):
        return kind
    if (now - call.started_at).total_seconds() < policy.min_seconds:
        return kind
    owed = session.scalar(
        select(QueueCallbackRow)
        .where(QueueCallbackRow.phone == call.caller_number, QueueCallbackRow.state.in_(OWED))
        .order_by(QueueCallbackRow.id)
        .limit(1)
    )
    if owed is not None:
        owed.missed_calls += 1
        owed.updated_at = now
        return kind
    session.add(
        QueueCallbackRow(
            call_id=call.call_id,
            phone=call.caller_number,
            queue=call.queue or "consultation",
            priority=call.priority,
            position=None,  # behind the callers waiting now, ahead of those who come later
            language=call.language if call.language in ("zh", "en") else "zh",
            requested_at=now,
            state="waiting",
            attempts=0,
            next_attempt_at=policy.first_call(now),
            last_result="",
            updated_at=now,
            source=kind,
            due_by=policy.due_by(now),
            missed_calls=1,
        )
    )
    return kind


def note_answered(session: Session, number: str, now: datetime) -> int:
    """The citizen got through on a later call: the missed-call callbacks still waiting are no longer owed
    (one already placed in a queue leaves it: telephony/queue_callback.py). Returns how many."""
    if not number:
        return 0
    result = session.execute(
        update(QueueCallbackRow)
        .where(
            QueueCallbackRow.phone == number,
            QueueCallbackRow.source.in_(MISSED_SOURCES),
            QueueCallbackRow.state.in_(("waiting", "placed")),
        )
        .values(state="cancelled", last_result="answered_inbound", updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
