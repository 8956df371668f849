"""China's statutory public holidays of any year, for years whose State Council notice no library has yet.

The State Council publishes each year's holiday schedule (放假安排) in the autumn before, with the days off
bridged to weekends and some weekends made working days (调休); `chinese_calendar` ships that schedule once
it is out. The holidays themselves are fixed by law (全国年节及纪念日放假办法, as revised in 2024, in force
from 2025): 元旦 1 January; 春节 four days, 除夕 and the first three days of the first lunar month; 清明节 the
day of the Qingming solar term; 劳动节 1–2 May; 端午节 the fifth day of the fifth lunar month; 中秋节 the
fifteenth day of the eighth lunar month; 国庆节 1–3 October. So a year without a notice still knows those
days; only the bridging and the working weekends are unknown until the notice (settings can add them).
Lunar dates and the solar term come from `lunar_python`.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import chinese_calendar
from lunar_python import Lunar, Solar


@cache
def statutory_holidays(year: int) -> dict[date, str]:
    """Each statutory day off of ``year`` → the holiday's name."""
    days: dict[date, str] = {date(year, 1, 1): "元旦"}
    new_year = _solar(Lunar.fromYmd(year, 1, 1))
    for offset in range(-1, 3):  # 除夕, 初一, 初二, 初三
        days[new_year + timedelta(days=offset)] = "春节"
    days[_solar_term(year, "清明")] = "清明节"
    days[date(year, 5, 1)] = days[date(year, 5, 2)] = "劳动节"
    days[_solar(Lunar.fromYmd(year, 5, 5))] = "端午节"
    days[_solar(Lunar.fromYmd(year, 8, 15))] = "中秋节"
    for day in (1, 2, 3):
        days[date(year, 10, day)] = "国庆节"
    return days


def statutory_holiday(day: date) -> str | None:
    """The statutory holiday ``day`` is a day off of, if any (除夕 of next year's 春节 can fall in this year)."""
    return statutory_holidays(day.year).get(day) or statutory_holidays(day.year + 1).get(day)


@cache
def has_notice(year: int) -> bool:
    """Whether `chinese_calendar` has the State Council's schedule of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def is_workday(day: date) -> bool:
    """A working day by the State Council's schedule, or, for a year without one, Monday–Friday outside the
    statutory holidays."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5 and statutory_holiday(day) is None


def holiday_name(day: date) -> str | None:
    """The public holiday ``day`` is a day off of (its bridged weekend days included), or None; a plain
    weekend is not a holiday."""
    try:
        off, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return statutory_holiday(day)
    return str(name) if off and name else None


def _solar(lunar: Lunar) -> date:
    return _day(lunar.getSolar())


def _solar_term(year: int, name: str) -> date:
    return _day(Lunar.fromYmd(year, 1, 1).getJieQiTable()[name])


def _day(solar: Solar) -> date:
    return date(solar.getYear(), solar.getMonth(), solar.getDay())
