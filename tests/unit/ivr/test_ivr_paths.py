"""The keys that reach an agent at a given time, read from the menu in force (the demo call uses them)."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from ivr.model import Menu, Period, Route, builtin_menu
from ivr.paths import keys_to_queue
from kernel.clock import FakeClock
from routing.calendar import ChineseWorkCalendar

DAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Haikou
NIGHT = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # Monday 23:30
NATIONAL_DAY = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
NEW_YEAR_2027 = datetime(2027, 1, 1, 2, 0, tzinfo=UTC)  # a year chinese_calendar 1.11 has no schedule for
SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "demo_call.py"


@pytest.fixture
def menu() -> Menu:
    return builtin_menu("hotline")


@pytest.mark.parametrize(
    ("now", "keys", "period"),
    [
        (DAY, "11", Period.DAY),  # Mandarin, enquiries
        (NIGHT, "10", Period.NIGHT),  # at night 1 is a callback request: 0 for an agent
        (NATIONAL_DAY, "11", Period.HOLIDAY),
        (NEW_YEAR_2027, "11", Period.HOLIDAY),  # 元旦 is a statutory holiday before any notice names it
    ],
)
def test_keys_to_an_agent_follow_the_menu_in_force(
    menu: Menu, now: datetime, keys: str, period: Period
) -> None:
    path = keys_to_queue(menu, now, ChineseWorkCalendar())
    assert (path.keys, path.route, path.period) == (keys, Route.QUEUE_CONSULTATION, period)


def test_another_queue_and_the_no_menu_mode(menu: Menu) -> None:
    assert keys_to_queue(menu, NIGHT, ChineseWorkCalendar(), prefer=Route.QUEUE_COMPLAINT).keys == "12"
    direct = keys_to_queue(menu.model_copy(update={"mode": "direct"}), NIGHT, ChineseWorkCalendar())
    assert (direct.keys, direct.route) == ("", Route.QUEUE_CONSULTATION)


def test_a_menu_without_a_queue_is_refused(menu: Menu) -> None:
    data = menu.model_dump(mode="json")
    data["nodes"]["welcome"]["next"] = {"route": "hangup"}
    with pytest.raises(ValueError, match="no queue"):
        keys_to_queue(Menu.model_validate(data), DAY, ChineseWorkCalendar())


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_call", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("now", "keys"), [(DAY, "11"), (NIGHT, "10")])
def test_the_demo_script_chooses_its_keys_by_its_clock(
    now: datetime, keys: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTLINE_IVR_MENU_DIR", raising=False)
    assert _script().plan(FakeClock(now)).keys == keys
    assert _script().plan(FakeClock(now), "2").keys == "2"  # --keys wins
