"""The AGI scripts' wiring with the fake port: the survey returns its answers, an IVR fault still routes the
call, and an edited menu file is picked up by the next call (a broken edit keeps the last good menu)."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ivr.fastagi import AgiRequest, parse_request
from ivr.model import MENU_DIR
from ivr.port_fake import FakeCallPort
from ivr.service import IvrServices, SurveyAnswers, run_hotline_ivr, run_survey
from kernel.clock import FakeClock

MONDAY_10H = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
REQUEST = AgiRequest(script="ivr", params={}, env={"agi_uniqueid": "1.1"})


class Weekdays:
    def is_workday(self, day: date) -> bool:
        return day.weekday() < 5


@pytest.fixture
def services(tmp_path: Path) -> IvrServices:
    menus = tmp_path / "menus"
    shutil.copytree(MENU_DIR, menus)
    return IvrServices(calendar=Weekdays(), clock=FakeClock(MONDAY_10H), menus=menus)


@pytest.mark.parametrize(
    ("keys", "answers", "variables"),
    [
        (["1", "5"], SurveyAnswers(1, 5), ("1", "5")),
        (["2", "1"], SurveyAnswers(2, 1), ("2", "1")),
        ([None, "8", "3"], SurveyAnswers(None, 3), ("none", "3")),
        (["2", None, None], SurveyAnswers(2, None), ("2", "none")),
    ],
)
def test_survey_returns_the_answers(
    services: IvrServices, keys: list[str | None], answers: SurveyAnswers, variables: tuple[str, str]
) -> None:
    port = FakeCallPort(keys)
    assert run_survey(services, port, order_number="HK202611230000123") == answers
    assert port.variables == {"HOTLINE_SURVEY_SOLVED": variables[0], "HOTLINE_SURVEY_RATING": variables[1]}
    assert port.played[0] == "hotline/zh/survey_intro"
    assert port.played[1:16] == [f"hotline/zh/digits/{d}" for d in "202611230000123"]
    assert port.played[-1] == "hotline/zh/survey_thanks"


def test_survey_in_english(services: IvrServices) -> None:
    port = FakeCallPort(["1", "4"])
    assert run_survey(services, port, language="en") == SurveyAnswers(1, 4)
    assert all(p.startswith("hotline/en/") for p in port.played)


def test_a_fault_in_the_ivr_still_routes_the_call_to_an_agent(services: IvrServices) -> None:
    class BrokenOrders:
        def status(self, number: str) -> str | None:
            raise RuntimeError("database down")

    services.orders = BrokenOrders()
    port = FakeCallPort(["1", "4", "123"])
    run_hotline_ivr(services, port, REQUEST)
    assert port.variables["HOTLINE_ROUTE"] == "queue-consultation"
    assert port.variables["HOTLINE_CHOICES"] == "error"


def test_menu_edits_apply_to_the_next_call(services: IvrServices) -> None:
    path = services.menus / "hotline.yaml"
    before = FakeCallPort(["1", "2"])
    run_hotline_ivr(services, before, REQUEST)
    assert before.variables["HOTLINE_ROUTE"] == "queue-complaint"

    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace('"2": {route: queue-complaint', '"2": {route: queue-urgent'), encoding="utf-8"
    )
    after = FakeCallPort(["1", "2"])
    run_hotline_ivr(services, after, REQUEST)
    assert after.variables["HOTLINE_ROUTE"] == "queue-urgent"

    path.write_text(text.replace("kind: menu", "kind: carousel", 1) + "\n# broken\n", encoding="utf-8")
    kept = FakeCallPort(["1", "2"])
    run_hotline_ivr(services, kept, REQUEST)
    assert kept.variables["HOTLINE_ROUTE"] == "queue-urgent"  # the last good menu


def test_parse_request() -> None:
    request = parse_request(
        {"agi_request": "agi://127.0.0.1:4573/survey?order=HK1&lang=en", "agi_uniqueid": "9.1"}
    )
    assert (request.script, request.params, request.call_id) == (
        "survey",
        {"order": "HK1", "lang": "en"},
        "9.1",
    )
