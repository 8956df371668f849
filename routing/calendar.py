"""The Chinese public-holiday calendar (法定节假日 and 调休 working weekends), from `chinese_calendar`.

The library covers the years whose State Council notice it has seen (up to 2026 in 1.11). For a later year
the calendar knows the statutory holidays (kernel.holidays: 元旦, 春节, 清明, 劳动节, 端午, 中秋, 国庆) and
Monday–Friday otherwise, and says once in the log that the notice's bridging days and working weekends are
missing; dates in ``extra_holidays`` and ``extra_workdays`` (from settings) patch that year until the library
is upgraded.
"""

from __future__ import annotations

import logging
from datetime import date

from kernel.holidays import has_notice, holiday_name, is_workday

log = logging.getLogger(__name__)


class ChineseWorkCalendar:
    def __init__(
        self, extra_holidays: set[date] | None = None, extra_workdays: set[date] | None = None
    ) -> None:
        self.extra_holidays = extra_holidays or set()
        self.extra_workdays = extra_workdays or set()
        self._warned: set[int] = set()

    def is_workday(self, day: date) -> bool:
        if day in self.extra_holidays:
            return False
        if day in self.extra_workdays:
            return True
        if day.year not in self._warned and not has_notice(day.year):
            self._warned.add(day.year)
            log.warning(
                "chinese_calendar has no data for %s: counting its statutory holidays and Monday-Friday; the "
                "State Council's bridging days and working weekends are missing until the library is upgraded "
                "(or set in extra_holidays / extra_workdays)",
                day.year,
            )
        return is_workday(day)

    def is_public_holiday(self, day: date) -> bool:
        """A day of a public holiday period (法定节假日, its weekend days included); ordinary weekends are not.
        The hotline calls citizens back on weekends, not on holidays (kernel.calling_hours)."""
        if day in self.extra_holidays:
            return True
        if day in self.extra_workdays:
            return False
        self.is_workday(day)  # logs a missing year once
        return holiday_name(day) is not None
