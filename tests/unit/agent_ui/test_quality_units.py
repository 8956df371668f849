"""Pure parts of the recordings, QA and suggestion views: highlighting, filters, the bus wiring."""

from __future__ import annotations

from datetime import date

from agent_ui.recording_views import parse_filters
from agent_ui.rendering import marked
from agent_ui.wiring import suggested_json, suggestions_ready
from routing.suggest.service import CategoryScore, Suggestions
from routing.suggest.units import UnitSuggestion


def test_marked_escapes_and_marks_longest_words_first() -> None:
    html = str(marked("社保卡<补办>：社保 与 社保卡", ["社保", "社保卡", ""]))
    assert html == "<mark>社保卡</mark>&lt;补办&gt;：<mark>社保</mark> 与 <mark>社保卡</mark>"
    assert str(marked("<b>x</b>", [])) == "&lt;b&gt;x&lt;/b&gt;"
    assert str(marked("Road LIGHT", ["light"])) == "Road <mark>LIGHT</mark>"


def test_recording_filters() -> None:
    q, errors = parse_filters({"date_from": "2026-11-01", "caller": "138-1234", "has_order": "yes"}, "zh-CN")
    assert errors == {} and q.date_from == date(2026, 11, 1) and q.caller == "1381234"
    _, errors = parse_filters({"date_from": "11/01", "date_to": "x", "caller": "abc", "has_order": "?"}, "en")
    assert set(errors) == {"date_from", "date_to", "caller", "has_order"}
    _, errors = parse_filters({"date_from": "2026-11-02", "date_to": "2026-11-01"}, "zh-CN")
    assert "结束日期早于开始日期" in errors["date_to"]


def _suggestions() -> Suggestions:
    return Suggestions(
        text="路灯坏了",
        categories=[CategoryScore("城乡建设", 0.9)],
        leaves=[
            CategoryScore("城乡建设/城市建设和市政管理/城市公共设施", 0.7),
            CategoryScore("城乡建设/a/b", 0.1),
        ],
        units=[
            UnitSuggestion("city.parks", "园林", 0.2, "assist", "assist"),
            UnitSuggestion("city.municipal", "市政", 0.8, "rule", "lead"),
        ],
        articles=[{"id": 7, "title": "路灯不亮报修", "body": "拨打12345", "score": 3.5, "matched": ["路灯"]}],
        call_id="c1",
    )


def test_engine_suggestions_become_the_desk_event() -> None:
    ready = suggestions_ready("c1", _suggestions(), {"城乡建设/城市建设和市政管理/城市公共设施": 42})
    assert ready.category_id == 42 and ready.unit_code == "city.municipal"
    assert [c.score for c in ready.categories] == [0.7, 0.1]
    assert ready.answers[0].matched == ("路灯",) and ready.answers[0].article_id == 7
    assert suggested_json(ready)["categories"][0]["name"] == "城乡建设"  # the engine's own JSON kept
    synthesized = suggested_json(ready.__class__(**{**ready.__dict__, "raw": {}}))
    assert synthesized["categories"][0]["name"] == "城乡建设"
    assert synthesized["leaves"][0]["name"].endswith("城市公共设施")
