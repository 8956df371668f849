"""The IVR engine over the fake call port: every path of the 12345 menu, timeouts, wrong keys, periods."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ivr.announcements import YamlAnnouncements
from ivr.engine import MAX_STEPS, IvrEngine, IvrResult, hotline_variables
from ivr.model import Menu, Period, Route, builtin_menu
from ivr.orders import FakeOrderLookup
from ivr.port import CallerHungUp
from ivr.port_fake import FakeCallPort

WORKDAY_MORNING = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Haikou
WORKDAY_NIGHT = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # Monday 23:30 in Haikou
NATIONAL_DAY = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)  # 国庆节 (a Thursday), 10:00 in Haikou


class SetCalendar:
    """Monday–Friday except the listed holidays."""

    def __init__(self, holidays: set[date]) -> None:
        self.holidays = holidays

    def is_workday(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays


CALENDAR = SetCalendar({NATIONAL_DAY.date()})


@pytest.fixture
def menu() -> Menu:
    return builtin_menu("hotline")


@pytest.fixture
def orders() -> FakeOrderLookup:
    return FakeOrderLookup({"202611230000123": "in_progress", "202611230000124": "resolved"})


@pytest.fixture
def engine(menu: Menu, orders: FakeOrderLookup) -> IvrEngine:
    return IvrEngine(menu, CALENDAR, orders=orders)


def call(
    engine: IvrEngine, keys: list[str | None], now: datetime = WORKDAY_MORNING
) -> tuple[IvrResult, FakeCallPort]:
    port = FakeCallPort(keys)
    return engine.run(port, now), port


@pytest.mark.parametrize(
    ("key", "route", "queue", "priority"),
    [
        ("1", Route.QUEUE_CONSULTATION, "consultation", "0"),
        ("2", Route.QUEUE_COMPLAINT, "complaint", "0"),
        ("3", Route.QUEUE_URGENT, "urgent", "10"),
        ("0", Route.QUEUE_CONSULTATION, "consultation", "0"),
    ],
)
def test_main_menu_keys_route_to_queues(
    engine: IvrEngine, key: str, route: Route, queue: str, priority: str
) -> None:
    result, port = call(engine, ["1", key])
    assert result.route is route
    variables = hotline_variables(result)
    assert variables == {
        "HOTLINE_LANG": "zh",
        "HOTLINE_ROUTE": str(route),
        "HOTLINE_QUEUE": queue,
        "HOTLINE_PRIORITY": priority,
        "HOTLINE_CHOICES": f"lang:zh,main:{key}",
        "HOTLINE_RECORDING": "yes",
    }
    assert port.played[0] == "hotline/zh/welcome"
    assert "hotline/zh/recording_notice" in port.played


def test_english_caller_hears_english_prompts(engine: IvrEngine) -> None:
    result, port = call(engine, ["2", "3"])
    assert result.language == "en"
    assert result.choices == ("lang:en", "main:3")
    assert port.played[0] == "hotline/zh/welcome"  # before the choice, the default language
    assert port.played[2:] == [
        "hotline/en/recording_notice",
        "hotline/en/main_menu",
        "hotline/en/urgent_transfer",
    ]


def test_silence_at_the_language_menu_means_mandarin(engine: IvrEngine) -> None:
    result, port = call(engine, [None, "2"])
    assert result.language == "zh"
    assert result.choices == ("lang:zh", "main:2")
    assert "hotline/zh/timeout" not in port.played
    assert port.asked[0] == ("hotline/zh/choose_language", 1, 3000)


def test_timeout_then_wrong_key_then_valid_key(engine: IvrEngine) -> None:
    result, port = call(engine, ["1", None, "7", "2"])
    assert result.route is Route.QUEUE_COMPLAINT
    main = [p for p in port.played if p.endswith(("main_menu", "timeout", "invalid"))]
    assert main == [
        "hotline/zh/main_menu",
        "hotline/zh/timeout",
        "hotline/zh/main_menu",
        "hotline/zh/invalid",
        "hotline/zh/main_menu",
    ]


def test_three_failures_go_to_an_agent(engine: IvrEngine) -> None:
    result, port = call(engine, ["1", None, "8", "*"])
    assert result.route is Route.QUEUE_CONSULTATION
    assert result.choices == ("lang:zh", "main:fail")
    assert port.played[-1] == "hotline/zh/transfer"
    assert [a[0] for a in port.asked].count("hotline/zh/main_menu") == 3


def test_query_a_work_order_by_number(engine: IvrEngine, orders: FakeOrderLookup) -> None:
    result, port = call(engine, ["1", "4", "202611230000123", "9", "1"])
    assert orders.asked == ["202611230000123"]
    assert port.asked[2] == ("hotline/zh/order_enter_number", 15, 8000)
    spoken = port.played[port.played.index("hotline/zh/order_number_is") :]
    digits = [f"hotline/zh/digits/{d}" for d in "202611230000123"]
    assert spoken[: 1 + 15 + 2] == [
        "hotline/zh/order_number_is",
        *digits,
        "hotline/zh/order_state_is",
        "hotline/zh/state_in_progress",
    ]
    assert result.route is Route.QUEUE_CONSULTATION
    assert result.choices == ("lang:zh", "main:4", "order:202611230000123", "order_after:9", "main:1")
    # told to the switch as soon as it was found (the call is linked to the order it asked about)
    assert port.variables == {
        "HOTLINE_ORDER_QUERIED": "HK202611230000123",
        "HOTLINE_ORDER_STATE": "in_progress",
    }


def test_unknown_work_order_retries_then_back_to_main(engine: IvrEngine) -> None:
    result, port = call(engine, ["1", "4", "999", None, "2"])
    assert port.played.count("hotline/zh/order_not_found") == 1
    assert port.played.count("hotline/zh/timeout") == 1
    assert result.route is Route.QUEUE_COMPLAINT
    assert result.choices == ("lang:zh", "main:4", "main:2")


def test_order_status_without_a_prompt_says_unknown(menu: Menu) -> None:
    engine = IvrEngine(menu, CALENDAR, orders=FakeOrderLookup({"1": "frozen"}))
    _, port = call(engine, ["1", "4", "1", "0"])
    assert "hotline/zh/state_unknown" in port.played


def test_after_the_order_query_silence_ends_the_call(engine: IvrEngine) -> None:
    result, port = call(engine, ["2", "4", "202611230000124", None, None, None])
    assert "hotline/en/state_resolved" in port.played
    assert result.route is Route.HANGUP
    assert port.played[-1] == "hotline/en/goodbye"


def test_night_variant_offers_a_callback_for_consultation(engine: IvrEngine) -> None:
    result, port = call(engine, ["1", "1"], WORKDAY_NIGHT)
    assert result.period is Period.NIGHT
    assert port.played[0] == "hotline/zh/welcome_night"
    assert "hotline/zh/main_menu_night" in port.played
    assert result.route is Route.CALLBACK
    assert hotline_variables(result)["HOTLINE_ROUTE"] == "callback"
    # urgent cases still go straight through at night
    urgent, _ = call(engine, ["1", "3"], WORKDAY_NIGHT)
    assert urgent.route is Route.QUEUE_URGENT


def test_holiday_variant_from_the_work_calendar(engine: IvrEngine) -> None:
    result, port = call(engine, ["1", "1"], NATIONAL_DAY)
    assert result.period is Period.HOLIDAY
    assert port.played[0] == "hotline/zh/welcome_holiday"
    assert result.route is Route.QUEUE_CONSULTATION


def test_caller_hanging_up_stops_the_engine(engine: IvrEngine) -> None:
    port = FakeCallPort(["1"])
    with pytest.raises(CallerHungUp):
        engine.run(port, WORKDAY_MORNING)
    assert port.variables == {}


ANNOUNCEMENT = """
announcements:
  - id: power-longhua
    text: {zh: 龙华区金贸片区今天停电，如果您是反映此事，请按1。, en: "About today's power cut in Longhua, press 1."}
    detail: {zh: 抢修人员正在处理，预计18点恢复供电。, en: Crews are working; power is back by 18:00.}
    on_press: hangup
"""


def test_announcement_changes_take_effect_on_the_next_call(menu: Menu, tmp_path: Path) -> None:
    path = tmp_path / "announcements.yaml"
    engine = IvrEngine(menu, CALENDAR, announcements=YamlAnnouncements(path))

    result, port = call(engine, ["1", "2"])  # no file yet
    assert not any("ann-" in p for p in port.played)

    path.write_text(ANNOUNCEMENT, encoding="utf-8")
    result, port = call(engine, ["1", "1"])
    assert port.asked[1] == ("hotline/zh/ann-power-longhua", 1, 3000)
    assert port.played[-1] == "hotline/zh/ann-power-longhua-detail"
    assert result.route is Route.HANGUP
    assert result.choices == ("lang:zh", "ann:power-longhua")

    result, port = call(engine, ["1", None, "3"])  # not about the power cut: on to the menu
    assert result.route is Route.QUEUE_URGENT

    path.write_text(ANNOUNCEMENT.replace("on_press: hangup", "on_press: hangup\n    active: false"), "utf-8")
    result, port = call(engine, ["1", "3"])
    assert not any("ann-" in p for p in port.played)


def test_announcement_window_and_broken_file(menu: Menu, tmp_path: Path) -> None:
    path = tmp_path / "announcements.yaml"
    path.write_text(ANNOUNCEMENT + "    ends_at: 2026-11-23T09:00:00+08:00\n", encoding="utf-8")
    source = YamlAnnouncements(path)
    assert source.current(WORKDAY_MORNING) == []  # 10:00 is after the end
    path.write_text("announcements: [{id: 'Bad Id'}]\n", encoding="utf-8")
    assert source.current(WORKDAY_MORNING) == []  # logged and ignored, calls go on


def test_recording_consent_can_be_declined(menu: Menu) -> None:
    consent = menu.model_copy(
        update={"recording": menu.recording.model_copy(update={"consent_required": True})}
    )
    engine = IvrEngine(consent, CALENDAR)
    result, port = call(engine, ["1", "2", "1"])
    assert result.recording is False
    assert hotline_variables(result)["HOTLINE_RECORDING"] == "no"
    assert "hotline/zh/recording_declined" in port.played
    agreed, _ = call(engine, ["1", "1", "1"])
    assert agreed.recording is True
    silent, _ = call(engine, ["1", None, "1"])
    assert silent.recording is False  # silence is not consent
    assert silent.choices == ("lang:zh", "rec:no", "main:1")


def test_a_menu_that_never_ends_goes_to_an_agent(menu: Menu) -> None:
    data = menu.model_dump(mode="json")
    data["nodes"]["welcome"]["next"] = {"goto": "welcome"}
    engine = IvrEngine(Menu.model_validate(data), CALENDAR)
    result, port = call(engine, [])
    assert result.route is Route.QUEUE_CONSULTATION
    assert port.played.count("hotline/zh/welcome") == MAX_STEPS
