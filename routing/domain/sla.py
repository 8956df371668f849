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
    response_minutes: int
    resolution_working_days: int


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
class SlaPolicy:
    default: SlaTerms = SlaTerms(30, 5)
    reopen: SlaTerms = SlaTerms(20, 3)
    urgent: SlaTerms = SlaTerms(10, 1)
    by_case_type: tuple[tuple[CaseType, SlaTerms], ...] = ()
    urgent_classes: tuple[tuple[str, int], ...] = ()  # (class code, response minutes)
    escalation: EscalationTerms = EscalationTerms()
    supervision: SupervisionTerms = SupervisionTerms()

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
    if days <= 0:
        return start
    local = start.astimezone(HAIKOU)
    day = local.date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if calendar.is_workday(day):
            counted += 1
    return datetime.combine(day, local.timetz()).astimezone(start.tzinfo)


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
