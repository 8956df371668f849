"""Statutory holidays by law for years without the State Council's schedule, held to the schedules we have."""

from __future__ import annotations

import logging
from datetime import date

import chinese_calendar
import pytest

from kernel.holidays import has_notice, holiday_name, is_workday, statutory_holidays
from routing.calendar import ChineseWorkCalendar

NO_NOTICE = 2027  # chinese_calendar 1.11 knows up to 2026


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_statutory_day_is_a_day_off_in_the_published_schedule(year: int) -> None:
    assert has_notice(year)
    days = statutory_holidays(year)
    assert len(days) == 13  # 元旦 1, 春节 4, 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3 (the law since 2025)
    for day, name in days.items():
        off, official = chinese_calendar.get_holiday_detail(day)
        assert off and official, (day, name)


def test_a_year_without_a_schedule_still_keeps_its_statutory_holidays() -> None:
    assert not has_notice(NO_NOTICE)
    spring = [date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8)]  # 除夕 to 初三
    assert [holiday_name(d) for d in spring] == ["春节"] * 4
    assert holiday_name(date(2027, 1, 1)) == "元旦" and not is_workday(date(2027, 1, 1))
    assert holiday_name(date(2027, 4, 5)) == "清明节"
    assert holiday_name(date(2027, 6, 9)) == "端午节" and holiday_name(date(2027, 9, 15)) == "中秋节"
    assert is_workday(date(2027, 1, 4))  # an ordinary Monday
    assert not is_workday(date(2027, 1, 9)) and holiday_name(date(2027, 1, 9)) is None  # a plain Saturday


def test_the_hotline_calendar_says_once_what_it_does_not_know(caplog: pytest.LogCaptureFixture) -> None:
    calendar = ChineseWorkCalendar(extra_workdays={date(2027, 2, 20)})  # a 调休 Saturday once announced
    with caplog.at_level(logging.WARNING, logger="routing.calendar"):
        assert calendar.is_public_holiday(date(2027, 10, 2))
        assert not calendar.is_workday(date(2027, 5, 1))
        assert calendar.is_workday(date(2027, 2, 20))
    assert len([r for r in caplog.records if "2027" in r.getMessage()]) == 1
    assert calendar.is_workday(date(2026, 10, 10))  # 2026: the schedule's working Saturday, no warning
