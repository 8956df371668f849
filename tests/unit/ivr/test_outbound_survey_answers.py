"""The survey on an outbound callback puts each answer on the channel as soon as it is given, so a citizen
who says "not solved" and hangs up before rating still counts (the dialplan's hangup handler reports it)."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ivr.model import MENU_DIR
from ivr.port import CallerHungUp
from ivr.port_fake import FakeCallPort
from ivr.service import IvrServices, run_survey
from kernel.clock import FakeClock

MONDAY_10H = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


class Weekdays:
    def is_workday(self, day: date) -> bool:
        return day.weekday() < 5


@pytest.fixture
def services(tmp_path: Path) -> IvrServices:
    menus = tmp_path / "menus"
    shutil.copytree(MENU_DIR, menus)
    return IvrServices(calendar=Weekdays(), clock=FakeClock(MONDAY_10H), menus=menus)


def test_not_solved_is_on_the_channel_before_the_citizen_hangs_up(services: IvrServices) -> None:
    port = FakeCallPort(["2"])  # then hangs up at the rating question
    with pytest.raises(CallerHungUp):
        run_survey(services, port, order_number="HK1")
    assert port.variables == {"HOTLINE_SURVEY_SOLVED": "2"}


def test_a_wrong_key_is_not_an_answer(services: IvrServices) -> None:
    port = FakeCallPort(["9"])
    with pytest.raises(CallerHungUp):
        run_survey(services, port, order_number="HK1")
    assert port.variables == {}


def test_each_answer_once_as_given_then_the_final_values(services: IvrServices) -> None:
    port = FakeCallPort(["1", "6", "4"])
    run_survey(services, port, order_number="HK1")
    assert port.variables == {"HOTLINE_SURVEY_SOLVED": "1", "HOTLINE_SURVEY_RATING": "4"}
