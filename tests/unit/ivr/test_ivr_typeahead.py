"""Getting to a person fast (GB/T 33358): every prompt can be interrupted, keys pressed ahead answer the next
questions, and the no-menu mode goes straight to the queue with the language chosen by a key or the number."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ivr.announcements import YamlAnnouncements
from ivr.engine import IvrEngine, hotline_variables
from ivr.model import Menu, MenuError, Route, builtin_menu, load_menu
from ivr.orders import FakeOrderLookup
from ivr.port_fake import FakeCallPort
from ivr.typeahead import KeyLedger, answer_in, answer_so_far

MONDAY_10H = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
MONDAY_23H = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


class Weekdays:
    def is_workday(self, day: date) -> bool:
        return day.weekday() < 5


@pytest.fixture
def menu() -> Menu:
    return builtin_menu("hotline")


def direct(menu: Menu) -> Menu:
    return menu.model_copy(update={"mode": "direct"})


@pytest.mark.parametrize(
    ("pending", "max_digits", "answer"),
    [
        ("", 1, None),
        ("1", 1, ("1", 1)),
        ("13", 1, ("1", 1)),
        ("#", 1, ("", 1)),  # as GET DATA: # alone is an empty answer
        ("2026", 15, None),  # still keying the order number
        ("2026#9", 15, ("2026", 5)),
        ("123456789012345", 15, ("123456789012345", 15)),
    ],
)
def test_an_answer_from_keys_typed_ahead(
    pending: str, max_digits: int, answer: tuple[str, int] | None
) -> None:
    assert answer_in(pending, max_digits) == answer


def test_after_a_timeout_what_was_keyed_is_the_answer() -> None:
    assert answer_so_far("20", 15) == ("20", 2)
    assert answer_so_far("", 1) == ("", 0)
    ledger = KeyLedger()
    ledger.use(2)
    assert ledger.pending("1142") == "42"


def test_keys_pressed_as_the_call_is_answered_skip_every_prompt(menu: Menu) -> None:
    port = FakeCallPort([], ahead="11")
    result = IvrEngine(menu, Weekdays()).run(port, MONDAY_10H)
    assert result.route is Route.QUEUE_CONSULTATION
    assert result.choices == ("lang:zh", "main:1")
    # Nothing waited for a key, and the caller heard only "please hold while we connect you".
    assert port.asked == []
    assert port.played == ["hotline/zh/transfer"]


def test_a_key_stops_the_welcome_and_answers_the_language_question(menu: Menu) -> None:
    port = FakeCallPort(["3"], during={"hotline/zh/welcome": "2"})
    result = IvrEngine(menu, Weekdays()).run(port, MONDAY_10H)
    assert (result.route, result.language) == (Route.QUEUE_URGENT, "en")
    assert port.played[:2] == ["hotline/zh/welcome", "hotline/en/recording_notice"]  # no language question
    assert [a[0] for a in port.asked] == ["hotline/en/main_menu"]


def test_a_key_stops_the_recording_notice(menu: Menu) -> None:
    port = FakeCallPort(["1"], during={"hotline/zh/recording_notice": "2"})
    result = IvrEngine(menu, Weekdays()).run(port, MONDAY_10H)
    assert result.route is Route.QUEUE_COMPLAINT
    assert "hotline/zh/main_menu" not in port.played
    assert result.recording  # the notice began: the call is recorded


def test_an_order_number_keyed_ahead_is_read_whole(menu: Menu) -> None:
    orders = FakeOrderLookup({"202611230000123": "in_progress"})
    port = FakeCallPort(["0"], ahead="14202611230000123#")
    result = IvrEngine(menu, Weekdays(), orders=orders).run(port, MONDAY_10H)
    assert result.choices == ("lang:zh", "main:4", "order:202611230000123", "order_after:0")
    assert "hotline/zh/state_in_progress" in port.played  # the state is still told


def test_keys_typed_ahead_are_for_the_menu_not_for_an_announcement(menu: Menu, tmp_path: Path) -> None:
    path = tmp_path / "announcements.yaml"
    path.write_text(
        """announcements:
  - id: water-meilan
    text: {zh: 美兰区今天停水，如果您是反映此事，请按1。, en: "About today's water cut in Meilan, press 1."}
    detail: {zh: 预计18点恢复供水。, en: Water is back by 18:00.}
    on_press: hangup
""",
        encoding="utf-8",
    )
    engine = IvrEngine(menu, Weekdays(), announcements=YamlAnnouncements(path))
    port = FakeCallPort([], ahead="11")
    assert engine.run(port, MONDAY_10H).route is Route.QUEUE_CONSULTATION
    heard = FakeCallPort(["1", "1"])  # a caller who waits hears it, and 1 there means the notice
    assert engine.run(heard, MONDAY_10H).route is Route.HANGUP


def test_no_menu_mode_goes_straight_to_the_queue(menu: Menu) -> None:
    port = FakeCallPort([])
    result = IvrEngine(direct(menu), Weekdays()).run(port, MONDAY_23H)  # day or night alike
    assert (result.route, result.language, result.choices) == (Route.QUEUE_CONSULTATION, "zh", ())
    assert port.asked == []
    assert port.played == [
        "hotline/zh/welcome_direct",  # which says the call is recorded
        "hotline/en/choose_language",  # "For English, press 2."
    ]
    assert hotline_variables(result)["HOTLINE_QUEUE"] == "consultation"


def test_no_menu_mode_language_by_a_key_at_any_time(menu: Menu) -> None:
    port = FakeCallPort([], during={"hotline/zh/welcome_direct": "92"})  # 9 means nothing here
    result = IvrEngine(direct(menu), Weekdays()).run(port, MONDAY_10H)
    assert (result.route, result.language, result.choices) == (Route.QUEUE_CONSULTATION, "en", ("lang:en",))
    # English chosen during the welcome: nobody offers English any more
    assert port.played == ["hotline/zh/welcome_direct"]


@pytest.mark.parametrize(
    ("caller", "language"),
    [
        ("13800138000", "zh"),
        ("+8613800138000", "zh"),
        ("+14155550100", "en"),
        ("0044207946000", "en"),
        ("", "zh"),
    ],
)
def test_language_by_the_callers_number(menu: Menu, caller: str, language: str) -> None:
    assert menu.language_of(caller) == language
    port = FakeCallPort([])
    result = IvrEngine(direct(menu), Weekdays()).run(port, MONDAY_10H, caller=caller)
    assert result.language == language
    assert port.played[0] == f"hotline/{language}/welcome_direct"


def test_no_menu_mode_is_chosen_in_the_menu_file(tmp_path: Path) -> None:
    shipped = (Path(__file__).parents[3] / "ivr" / "menus" / "hotline.yaml").read_text(encoding="utf-8")
    assert "\nmode: menu\n" in shipped
    path = tmp_path / "hotline.yaml"
    path.write_text(shipped.replace("\nmode: menu\n", "\nmode: direct\n"), encoding="utf-8")
    assert load_menu(path).mode == "direct"
    consent = shipped.replace("\nmode: menu\n", "\nmode: direct\n").replace(
        "consent_required: false", "consent_required: true"
    )
    path.write_text(consent, encoding="utf-8")
    with pytest.raises(MenuError, match="direct mode cannot ask for recording consent"):
        load_menu(path)
