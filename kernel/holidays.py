"""China's public holidays: the State Council's schedule where published, else the law's own days.

The State Council publishes each year's holiday schedule (放假安排) in the autumn before, with the days off
bridged to weekends and some weekends made working days (调休); `chinese_calendar` ships that schedule once
it is out. The holidays themselves are fixed by law (全国年节及纪念日放假办法, as revised in 2024, in force
from 2025): 元旦 1 January; 春节 four days, 除夕 and the first three days of the first lunar month; 清明节 the
day of the Qingming solar term; 劳动节 1–2 May; 端午节 the fifth day of the fifth lunar month; 中秋节 the
fifteenth day of the eighth lunar month; 国庆节 1–3 October. A holiday day that falls on a Saturday or
Sunday is made up on the next working day after it (补休, article 6), and so is a day two holidays share
(中秋 on 1–3 October). So a year without a notice still knows those days; only the bridging and the working
weekends wait for the notice (settings can add them). Lunar dates and the solar term: `lunar_python`.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import chinese_calendar
from lunar_python import Lunar, Solar

# chinese_calendar names its holidays in English.
_CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


@cache
def statutory_holidays(year: int) -> dict[date, str]:
    """Each statutory day off of ``year`` by law (made-up days included) → the holiday's name."""
    new_year = _solar(Lunar.fromYmd(year, 1, 1))
    law = [
        (date(year, 1, 1), "元旦"),
        *((new_year + timedelta(days=offset), "春节") for offset in range(-1, 3)),  # 除夕 … 初三
        (_day(Lunar.fromYmd(year, 1, 1).getJieQiTable()["清明"]), "清明节"),
        (date(year, 5, 1), "劳动节"),
        (date(year, 5, 2), "劳动节"),
        (_solar(Lunar.fromYmd(year, 5, 5)), "端午节"),
        (_solar(Lunar.fromYmd(year, 8, 15)), "中秋节"),
        *((date(year, 10, day), "国庆节") for day in (1, 2, 3)),
    ]
    days: dict[date, str] = {}
    owed: list[str] = []
    for day, name in law:
        if day in days or day.weekday() >= 5:
            owed.append(name)
        days.setdefault(day, name)
    last = {name: max(day for day, holiday in law if holiday == name) for _, name in law}
    for name in owed:  # 补休: the next working day after that holiday's days
        made_up = last[name] + timedelta(days=1)
        while made_up.weekday() >= 5 or made_up in days:
            made_up += timedelta(days=1)
        days[made_up] = name
        last[name] = made_up
    return days


def statutory_holiday(day: date) -> str | None:
    """The statutory holiday ``day`` is a day off of by law, if any."""
    return statutory_holidays(day.year).get(day)


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
    """The public holiday (in Chinese) ``day`` is a day off of, its bridged weekend days included, or None;
    a plain weekend is not a holiday."""
    try:
        off, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return statutory_holiday(day)
    return _CHINESE_NAMES.get(str(name), str(name)) if off and name else None


def _solar(lunar: Lunar) -> date:
    return _day(lunar.getSolar())


def _day(solar: Solar) -> date:
    return date(solar.getYear(), solar.getMonth(), solar.getDay())
