"""When the hotline may call a citizen: daily windows in local time, minus the days it does not call.

Used by every outbound call the hotline places on its own: the satisfaction survey (回访, routing) and the
callbacks of missed calls and callback requests (telephony). Pure: ``now`` comes from the caller.

The days left out come from the official Chinese calendar (``routing.calendar.ChineseWorkCalendar``, which the
composition root hands in): by default public holidays (法定节假日, the whole holiday period) are skipped but
ordinary weekends are calling days, since the hotline works 7×24; ``non_workdays`` skips weekends too (调休
working weekends count as working days).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

SkipDays = Literal["holidays", "non_workdays", "none"]
SEARCH_DAYS = 60  # the longest holiday period is a week or two; a calendar that closes everything is an error


class WorkdayCalendar(Protocol):
    def is_workday(self, day: date) -> bool: ...


@runtime_checkable
class HolidayCalendar(Protocol):
    def is_public_holiday(self, day: date) -> bool: ...


def closed_days(
    calendar: WorkdayCalendar | None, skip: SkipDays = "holidays"
) -> Callable[[date], bool] | None:
    """The days without calls, from a work calendar. A calendar that cannot tell a public holiday from a
    weekend treats a weekday that is not a working day as a holiday."""
    if calendar is None or skip == "none":
        return None
    if skip == "non_workdays":
        return lambda day: not calendar.is_workday(day)
    if isinstance(calendar, HolidayCalendar):
        return calendar.is_public_holiday
    return lambda day: day.weekday() < 5 and not calendar.is_workday(day)


def parse_windows(text: str) -> tuple[tuple[time, time], ...]:
    """``"09:00-12:00,14:00-20:00"`` -> windows (the form used in settings)."""
    windows = []
    for part in text.split(","):
        start, _, end = part.strip().partition("-")
        windows.append((time.fromisoformat(start.strip()), time.fromisoformat(end.strip())))
    return tuple(windows)


@dataclass(frozen=True)
class CallingHours:
    windows: tuple[tuple[time, time], ...]
    timezone: str = "Asia/Shanghai"
    closed: Callable[[date], bool] | None = None  # a day without calls (a public holiday)

    def __post_init__(self) -> None:
        if not self.windows:
            raise ValueError("at least one calling window is needed")
        for start, end in self.windows:
            if not start < end:
                raise ValueError(f"a calling window must start before it ends: {start}-{end}")
        ZoneInfo(self.timezone)  # unknown zones fail here, not at the first call

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def open_day(self, day: date) -> bool:
        return self.closed is None or not self.closed(day)

    def open_at(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        if not self.open_day(local.date()):
            return False
        return any(start <= local.time() < end for start, end in self.windows)

    def next_open(self, earliest: datetime) -> datetime:
        """The first moment at or after ``earliest`` inside a calling window of a calling day."""
        if self.open_at(earliest):
            return earliest
        local = earliest.astimezone(self.zone)
        for offset in range(SEARCH_DAYS):
            day = local.date() + timedelta(days=offset)
            if not self.open_day(day):
                continue
            for start, _end in sorted(self.windows):
                candidate = datetime.combine(day, start, tzinfo=self.zone)
                if candidate >= local:
                    return candidate.astimezone(earliest.tzinfo)
        raise ValueError(f"no calling day within {SEARCH_DAYS} days of {earliest:%Y-%m-%d}")
