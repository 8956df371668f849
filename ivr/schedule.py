"""Which variant of the menus plays now: daytime, night, or a non-working day (weekend or public holiday).

The hotline answers 7x24; the periods only change what callers hear and where some keys lead. Pure: the caller
passes ``now`` and the work calendar (``routing.calendar.ChineseWorkCalendar`` in production, which knows the
法定节假日 and the 调休 working weekends).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

from ivr.model import Hours, Period


class WorkCalendar(Protocol):
    def is_workday(self, day: date) -> bool: ...


def _clock_time(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def period_at(now: datetime, hours: Hours, calendar: WorkCalendar) -> Period:
    """Night outside the service hours (every day); on a non-working day in the hours, ``holiday``."""
    local = now.astimezone(ZoneInfo(hours.timezone))
    start, end = _clock_time(hours.day_start), _clock_time(hours.day_end)
    if not start <= local.time() < end:
        return Period.NIGHT
    if not calendar.is_workday(local.date()):
        return Period.HOLIDAY
    return Period.DAY
