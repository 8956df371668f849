"""Reporting periods: local Haikou days, both ends included, checked before anything is read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from analytics.errors import AnalyticsError
from kernel.sqltime import day_index

HAIKOU = ZoneInfo("Asia/Shanghai")
FOUNDED = date(2008, 2, 1)  # the hotline opened on 1 February 2008
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included

    @property
    def since(self) -> datetime:
        return local_midnight(self.first)

    @property
    def until(self) -> datetime:
        return local_midnight(self.last + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def day_indexes(self) -> range:
        return range(day_index(self.first), day_index(self.last) + 1)

    def as_dict(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "timezone": "Asia/Shanghai"}


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), HAIKOU).astimezone(UTC)


def local_today(now: datetime) -> date:
    return now.astimezone(HAIKOU).date()


def parse_day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise AnalyticsError(
            f"{name} 日期格式应为 YYYY-MM-DD：{value[:20]!r}",
            f"{name} must be a date YYYY-MM-DD: {value[:20]!r}",
        ) from exc


def period(first: str | date | None, last: str | date | None, now: datetime, default_days: int = 1) -> Period:
    """A checked period. Missing ends default to the last ``default_days`` days up to today.

    Refused: a reversed range, a day after today (Haikou time), a day before the hotline existed, and more
    than three years at once."""
    today = local_today(now)
    end = parse_day(last, "to") if isinstance(last, str) else (last or today)
    start = (
        parse_day(first, "from")
        if isinstance(first, str)
        else (first or end - timedelta(days=default_days - 1))
    )
    if start > end:
        raise AnalyticsError(
            f"起始日期 {start} 晚于结束日期 {end}", f"the period is reversed: from {start} is after to {end}"
        )
    if end > today:
        raise AnalyticsError(
            f"结束日期 {end} 晚于今天（{today}），尚无数据", f"to {end} is after today ({today}): no data yet"
        )
    if start < FOUNDED:
        raise AnalyticsError(
            f"起始日期 {start} 早于热线开通日期（{FOUNDED}）",
            f"from {start} is before the hotline opened ({FOUNDED})",
        )
    if (end - start).days + 1 > MAX_DAYS:
        raise AnalyticsError(f"一次最多查询 {MAX_DAYS} 天", f"a period may cover at most {MAX_DAYS} days")
    return Period(start, end)
