"""The Haikou gazetteer: what the packaged file holds, what a bad file gets, how places are found."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from routing.assist.gazetteer import DISTRICTS, Gazetteer, GazetteerError, default_gazetteer, parse

HEADER = "name,kind,district,street,aliases\n"


def test_the_packaged_gazetteer_covers_the_four_districts_with_realistic_places() -> None:
    g = default_gazetteer()
    assert len(g) >= 300
    kinds = Counter(p.kind for p in g.places)
    assert kinds["district"] == 4 and kinds["street"] + kinds["town"] >= 40
    assert kinds["road"] >= 60 and kinds["landmark"] >= 50 and kinds["compound"] >= 50
    for district in DISTRICTS:
        assert sum(district in p.districts for p in g.places) >= 40, district


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        (
            "和平大道,road,美兰区,,\n和平大道,road,美兰区,,\n",
            3,
            "duplicate entry '和平大道' (first on line 2)",
        ),
        ("海大,landmark,美兰区,,\n海南大学,landmark,美兰区,,海大\n", 3, "duplicate entry '海大'"),
        ("和平大道,road,美兰区\n", 2, "expected 5 columns, found 3"),
        ("# comment\n和平大道,avenue,美兰区,,\n", 3, "unknown kind 'avenue'"),
        ("和平大道,road,海口区,,\n", 2, "district must be one or more of"),
        ("和平大道,road,美兰区|美兰区,,\n", 2, "district listed twice"),
        (",road,美兰区,,\n", 2, "empty name"),
    ],
)
def test_a_file_with_a_bad_entry_is_refused_with_its_line_number(body: str, line: int, message: str) -> None:
    with pytest.raises(GazetteerError) as caught:
        parse((HEADER + body).splitlines(keepends=True), "g.csv")
    assert caught.value.line == line
    assert message in caught.value.message
    assert str(caught.value).startswith(f"g.csv:{line}: ")


def test_a_file_without_the_header_or_without_places_is_refused(tmp_path: Path) -> None:
    with pytest.raises(GazetteerError, match="first line must be"):
        parse(["和平大道,road,美兰区,,\n"])
    empty = tmp_path / "g.csv"
    empty.write_text(HEADER, encoding="utf-8")
    with pytest.raises(GazetteerError, match="no places"):
        Gazetteer.load(empty)


def test_places_are_found_longest_first_and_by_sound_when_recognition_misspells_them() -> None:
    g = default_gazetteer()
    found = g.find("我住在海甸岛和平大道")
    assert [(m.place.name, m.by) for m in found] == [("海甸岛", "字"), ("和平大道", "字")]
    misheard = g.find("我住在海店岛和平大到")
    assert [(m.place.name, m.said, m.by) for m in misheard] == [
        ("海甸岛", "海店岛", "拼音"),
        ("和平大道", "和平大到", "拼音"),
    ]
    assert [m.place.name for m in g.find("省医门口")] == ["海南省人民医院"]  # an alias
    assert g.find("今天天气很好") == []


def test_the_operator_checks_an_edited_file_before_use(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from routing.suggest.cli import app

    runner = CliRunner()
    ok = runner.invoke(app, ["gazetteer"])
    assert ok.exit_code == 0 and "ok" in ok.output
    bad = tmp_path / "g.csv"
    bad.write_text(HEADER + "和平大道,road,美兰区,,\n和平大道,road,美兰区,,\n", encoding="utf-8")
    refused = runner.invoke(app, ["gazetteer", str(bad)])
    assert refused.exit_code == 1 and "g.csv:3:" in refused.output.replace("\n", "")
