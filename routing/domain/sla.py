"""SLA policies and deadline arithmetic.

Response clocks run 24×7 in minutes (Haikou's rule since 2016-12-08: a unit responds within 30 minutes).
Resolution clocks count working days of the Chinese public calendar, which moves weekends around holidays
(调休): a Sunday can be a working day and a Thursday a holiday, so "5 working days" needs the calendar.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from routing.domain.enums import CaseType, Urgency

HAIKOU = ZoneInfo("Asia/Shanghai")


class WorkCalendar(Protocol):
    def is_workday(self, day: date) -> bool: ...


class WeekdayCalendar:
    """Monday to Friday; the fallback for years the official calendar does not cover yet."""

    def is_workday(self, day: date) -> bool:
        return day.weekday() < 5


@dataclass(frozen=True)
class SlaTerms:
    """One policy's clocks. A yellow card (黄牌) warns the unit before each deadline: ``yellow_*`` say how
    long before (0 turns that warning off); the red card (红牌) is the breach itself."""

    response_minutes: int
    resolution_working_days: int
    yellow_response_minutes: int = 10
    yellow_resolution_working_days: int = 1


@dataclass(frozen=True)
class EscalationTerms:
    unit_head_minutes: int = 0
    district_or_bureau_head_minutes: int = 30
    supervision_order_minutes: int = 60


@dataclass(frozen=True)
class SupervisionTerms:
    acknowledge_minutes: int = 60
    resolution_working_days: int = 2


@dataclass(frozen=True)
class ObjectionTerms:
    """派单异议: a unit contests its dispatch within ``window_hours`` of being assigned (afterwards it must
    handle the case, or ask for an extension); the hotline rules within ``review_hours``."""

    window_hours: int = 24
    review_hours: int = 4


@dataclass(frozen=True)
class SlaPolicy:
    default: SlaTerms = SlaTerms(30, 5)
    reopen: SlaTerms = SlaTerms(20, 3)
    urgent: SlaTerms = SlaTerms(10, 1)
    by_case_type: tuple[tuple[CaseType, SlaTerms], ...] = ()
    urgent_classes: tuple[tuple[str, int], ...] = ()  # (class code, response minutes)
    escalation: EscalationTerms = EscalationTerms()
    supervision: SupervisionTerms = SupervisionTerms()
    objection: ObjectionTerms = ObjectionTerms()

    def terms_for(
        self,
        case_type: CaseType,
        urgency: Urgency,
        urgent_class: str | None = None,
        *,
        reopened: bool = False,
    ) -> SlaTerms:
        if reopened:
            terms = self.reopen
        elif urgency is Urgency.URGENT:
            terms = self.urgent
            minutes = dict(self.urgent_classes).get(urgent_class or "")
            if minutes is not None:
                terms = replace(terms, response_minutes=minutes)
        else:
            terms = dict(self.by_case_type).get(case_type, self.default)
        return terms


def add_working_days(start: datetime, days: int, calendar: WorkCalendar) -> datetime:
    """The same local time of day on the ``days``-th working day after ``start``'s local date."""
    return _step_working_days(start, days, calendar, 1)


def _step_working_days(when: datetime, days: int, calendar: WorkCalendar, step: int) -> datetime:
    if days <= 0:
        return when
    local = when.astimezone(HAIKOU)
    day = local.date()
    counted = 0
    while counted < days:
        day += timedelta(days=step)
        if calendar.is_workday(day):
            counted += 1
    return datetime.combine(day, local.timetz()).astimezone(when.tzinfo)


def yellow_card_at(
    clock: str, due: datetime, terms: SlaTerms, calendar: WorkCalendar, now: datetime
) -> datetime | None:
    """When the yellow card for a deadline falls due: ``yellow_response_minutes`` before a response deadline,
    ``yellow_resolution_working_days`` working days before a resolution deadline; None when that warning is
    off or would fall at or before ``now`` (a clock shorter than its warning gets no yellow card)."""
    if clock == "response":
        at = (
            due - timedelta(minutes=terms.yellow_response_minutes)
            if terms.yellow_response_minutes > 0
            else None
        )
    else:
        days = terms.yellow_resolution_working_days
        at = subtract_working_days(due, days, calendar) if days > 0 else None
    return at if at is not None and at > now else None


def subtract_working_days(end: datetime, days: int, calendar: WorkCalendar) -> datetime:
    """The same local time of day on the ``days``-th working day before ``end``'s local date (a yellow card
    "one working day before" a resolution deadline due Monday 09:00 falls on the Friday before, 09:00)."""
    return _step_working_days(end, days, calendar, -1)


def working_days_between(start: datetime, end: datetime, calendar: WorkCalendar) -> int:
    """Working days strictly after ``start``'s date up to and including ``end``'s date (local dates)."""
    first = start.astimezone(HAIKOU).date()
    last = end.astimezone(HAIKOU).date()
    count = 0
    day = first
    while day < last:
        day += timedelta(days=1)
        if calendar.is_workday(day):
            count += 1
    return count
