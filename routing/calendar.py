"""The Chinese public-holiday calendar (法定节假日 and 调休 working weekends), from `chinese_calendar`.

The library covers the years whose State Council notice it has seen (up to 2026 in 1.11). For a later year
the calendar falls back to Monday–Friday and says so once in the log; dates in ``extra_holidays`` and
``extra_workdays`` (from settings) patch that year until the library is upgraded.
"""

from __future__ import annotations

import logging
from datetime import date

import chinese_calendar

from routing.domain.sla import WeekdayCalendar

log = logging.getLogger(__name__)


class ChineseWorkCalendar:
    def __init__(
        self, extra_holidays: set[date] | None = None, extra_workdays: set[date] | None = None
    ) -> None:
        self.extra_holidays = extra_holidays or set()
        self.extra_workdays = extra_workdays or set()
        self._fallback = WeekdayCalendar()
        self._warned: set[int] = set()

    def is_workday(self, day: date) -> bool:
        if day in self.extra_holidays:
            return False
        if day in self.extra_workdays:
            return True
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                log.warning(
                    "chinese_calendar has no data for %s; counting Monday-Friday as working days", day.year
                )
            return self._fallback.is_workday(day)

    def is_public_holiday(self, day: date) -> bool:
        """A day of a public holiday period (法定节假日, its weekend days included); ordinary weekends are not.
        The hotline calls citizens back on weekends, not on holidays (kernel.calling_hours)."""
        if day in self.extra_holidays:
            return True
        if day in self.extra_workdays:
            return False
        try:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return day.weekday() < 5 and not self.is_workday(day)  # the weekday fallback, logged there
        return bool(on_holiday and name)
