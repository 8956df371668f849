"""Statutory holidays by law for years without the State Council's schedule, held to the schedules we have."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

import chinese_calendar
import pytest

from kernel import holidays
from kernel.holidays import has_notice, holiday_name, is_workday, statutory_holidays
from routing.calendar import ChineseWorkCalendar


@pytest.fixture
def no_schedule_for_2027(monkeypatch: pytest.MonkeyPatch) -> None:
    """As chinese_calendar 1.11 is: no notice for 2027 (whatever release is installed)."""

    def unpublished(real: Callable[[date], Any]) -> Callable[[date], Any]:
        def call(day: date) -> Any:
            if day.year >= 2027:
                raise NotImplementedError(f"no data for {day.year}")
            return real(day)

        return call

    monkeypatch.setattr(holidays.chinese_calendar, "is_workday", unpublished(chinese_calendar.is_workday))
    monkeypatch.setattr(
        holidays.chinese_calendar, "get_holiday_detail", unpublished(chinese_calendar.get_holiday_detail)
    )


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_day_off_by_law_is_a_day_off_in_the_published_schedule(year: int) -> None:
    assert has_notice(year)
    days = statutory_holidays(year)
    # 13 days by law since 2025, plus a made-up day (补休) for each that falls on a weekend:
    # 2025 端午 (Sat 31 May → 2 June); 2026 清明 (Sun), 劳动节 (Sat 2 May), 国庆 (Sat 3 October).
    assert len(days) == {2025: 14, 2026: 16}[year]
    for day, name in days.items():
        off, official = chinese_calendar.get_holiday_detail(day)
        assert off and official, (day, name)
        assert holiday_name(day) == name  # the schedule's names, in Chinese


@pytest.mark.usefixtures("no_schedule_for_2027")
def test_a_year_without_a_schedule_keeps_the_laws_days_and_their_made_up_days() -> None:
    assert not has_notice(2027)
    spring = [date(2027, 2, d) for d in (5, 6, 7, 8, 9, 10)]  # 除夕–初三, two of them a weekend: +9, +10
    assert [holiday_name(d) for d in spring] == ["春节"] * 6
    assert holiday_name(date(2027, 1, 1)) == "元旦" and not is_workday(date(2027, 1, 1))
    assert holiday_name(date(2027, 4, 5)) == "清明节"
    assert [holiday_name(date(2027, 5, d)) for d in (1, 2, 3, 4)] == ["劳动节"] * 4  # Sat, Sun → Mon, Tue
    assert holiday_name(date(2027, 6, 9)) == "端午节" and holiday_name(date(2027, 9, 15)) == "中秋节"
    assert is_workday(date(2027, 1, 4)) and is_workday(date(2027, 5, 5))
    assert not is_workday(date(2027, 1, 9)) and holiday_name(date(2027, 1, 9)) is None  # a plain Saturday


def test_two_holidays_on_one_day_give_a_made_up_day() -> None:
    days = statutory_holidays(2028)  # 中秋 is Tuesday 3 October; 1 October is a Sunday
    assert days[date(2028, 10, 3)] == "中秋节"
    assert [days.get(date(2028, 10, d)) for d in (1, 2, 4, 5)] == ["国庆节"] * 4
    assert date(2028, 10, 6) not in days


@pytest.mark.usefixtures("no_schedule_for_2027")
def test_the_hotline_calendar_says_once_what_it_does_not_know(caplog: pytest.LogCaptureFixture) -> None:
    calendar = ChineseWorkCalendar(extra_workdays={date(2027, 2, 20)})  # a 调休 Saturday once announced
    with caplog.at_level(logging.WARNING, logger="routing.calendar"):
        assert calendar.is_public_holiday(date(2027, 10, 2))
        assert not calendar.is_workday(date(2027, 5, 1))
        assert calendar.is_workday(date(2027, 2, 20))
    assert len([r for r in caplog.records if "2027" in r.getMessage()]) == 1
    assert calendar.is_workday(date(2026, 10, 10))  # 2026: the schedule's working Saturday, no warning
