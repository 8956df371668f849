"""Menus are data: the shipped files load, and a bad file fails with a message naming the file and the fault."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ivr.model import MENU_DIR, Hours, MenuError, Period, builtin_menu, load_menu
from ivr.schedule import period_at
from routing.calendar import ChineseWorkCalendar


@pytest.mark.parametrize("name", ["hotline", "survey"])
def test_shipped_menus_load(name: str) -> None:
    menu = builtin_menu(name)
    assert menu.start in menu.nodes
    assert all(set(texts) == {"zh", "en"} for texts in menu.prompts.values())


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "menu.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_goto_and_missing_prompt_are_named(tmp_path: Path) -> None:
    source = (MENU_DIR / "hotline.yaml").read_text(encoding="utf-8")
    broken = source.replace("next: {goto: language}", "next: {goto: langauge}").replace(
        "  goodbye:\n", "  goodbye_typo:\n"
    )
    with pytest.raises(MenuError) as info:
        load_menu(write(tmp_path, broken))
    message = str(info.value)
    assert "menu.yaml" in message
    assert "goto 'langauge' is not defined" in message
    assert "prompt 'goodbye' has no text" in message


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("- a list\n", "must be a mapping"),
        ("name: x\nstart: a\nprompts: {}\nnodes: {a: {kind: menu, prompt: p}}\n", "needs 'options'"),
        (
            "name: x\nstart: a\nprompts: {}\nnodes: {a: {kind: route, route: queue-nowhere}}\n",
            "nodes.a.route",
        ),
        (
            "name: x\nstart: a\nprompts: {p: {zh: 你好}}\nnodes: {a: {kind: play, prompt: p, next: {route: hangup}}}\n",
            "prompt 'p' has no text for en",
        ),
        (
            "name: x\nstart: a\nprompts: {}\nnodes: {a: {kind: menu, prompt: p, options: {'12': {route: hangup}}}}\n",
            "nodes.a.options.12",
        ),
        ("name: [unclosed\n", "cannot read menu"),
    ],
)
def test_bad_files(tmp_path: Path, text: str, fault: str) -> None:
    with pytest.raises(MenuError, match=r"menu\.yaml") as info:
        load_menu(write(tmp_path, text))
    assert fault in str(info.value)


@pytest.mark.parametrize(
    ("when", "period"),
    [
        (datetime(2026, 11, 23, 2, 0, tzinfo=UTC), Period.DAY),  # Monday 10:00
        (datetime(2026, 11, 22, 23, 59, tzinfo=UTC), Period.NIGHT),  # Monday 07:59
        (datetime(2026, 11, 23, 14, 0, tzinfo=UTC), Period.NIGHT),  # Monday 22:00
        (datetime(2026, 11, 22, 2, 0, tzinfo=UTC), Period.HOLIDAY),  # Sunday 10:00
        (datetime(2026, 10, 1, 2, 0, tzinfo=UTC), Period.HOLIDAY),  # 国庆节
        (datetime(2026, 2, 14, 2, 0, tzinfo=UTC), Period.DAY),  # Saturday, a 调休 working day before 春节
    ],
)
def test_periods_with_the_chinese_calendar(when: datetime, period: Period) -> None:
    assert period_at(when, Hours(), ChineseWorkCalendar()) is period
