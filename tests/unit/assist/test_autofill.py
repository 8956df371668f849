"""The order form's suggested values, through the suggestion engine as on a live call."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from routing.assist.service import Assistant
from routing.kb.index import KbIndex
from routing.kb.seed import read_seed
from routing.suggest.classifier import fit
from routing.suggest.leaves import LeafScorer, read_leaves
from routing.suggest.service import SuggestionEngine
from routing.suggest.unit_model import UnitModel, unit_documents
from routing.suggest.units import dispatcher_from_files

TRAIN = {
    "城乡建设": [
        "路灯坏了没人修",
        "小区物业不管电梯",
        "楼下违章建筑",
        "道路坑洼积水",
        "停水好几天",
        "房地产开发商不办证",
    ],
    "劳动和社会保障": ["公司拖欠工资", "社保怎么转移", "养老金没发", "被辞退没有补偿", "失业金申领"],
    "交通运输": ["出租车绕路", "公交车不停站", "网约车乱收费", "货车超载", "快递丢件"],
}


@pytest.fixture(scope="module")
def engine() -> SuggestionEngine:
    texts = [t for ts in TRAIN.values() for t in ts]
    labels = [k for k, ts in TRAIN.items() for _ in ts]
    leaves = read_leaves()
    articles = read_seed()
    return SuggestionEngine(
        fit("char12_svm", texts, labels),
        LeafScorer(leaves),
        dispatcher_from_files(leaves),
        KbIndex(articles),
        lambda: datetime(2025, 10, 1, tzinfo=UTC),
        UnitModel(unit_documents(leaves, articles)),
    )


def _call(engine: SuggestionEngine, finals: list[str], caller: str = "13800138000") -> dict[str, object]:
    assistant = Assistant(dispatcher=engine.dispatcher)
    assistant.call_started("c1", caller)
    first = assistant.on_final("c1", "")
    assert set(first.fields) == {"citizen_phone"}, "before anything is said only the screen pop is known"
    assert first.value("citizen_phone") == caller
    fill = first
    for text in finals:
        fill = assistant.on_final("c1", text, engine.on_final_utterance(text, "c1"), engine.dispatcher)
    assistant.call_ended("c1")
    return fill.to_dict()["fields"]  # type: ignore[return-value]


def test_the_form_fills_itself_from_the_finals_and_every_value_says_where_it_came_from(
    engine: SuggestionEngine,
) -> None:
    fields = _call(
        engine,
        [
            "喂你好",
            "嗯我想反映一下，我们海甸岛和平大道三十二号门口那个路灯",
            "坏了有一个星期了，晚上特别黑",
            "你们回电话打我这个号码，幺三九零七五五幺二三四",
        ],
    )
    phone = fields["citizen_phone"]
    assert phone["value"] == "13800138000" and phone["source"] == "screen_pop"  # type: ignore[index]
    assert phone["offers"] == ["13907551234"]  # type: ignore[index]
    assert fields["district"]["value"] == "美兰区"  # type: ignore[index]
    assert fields["location_text"]["value"] == "海甸岛和平大道32号门口"  # type: ignore[index]
    assert fields["category"]["value"].startswith("城乡建设/")  # type: ignore[index,union-attr]
    assert fields["case_type"]["value"] == "complaint"  # type: ignore[index]
    summary = str(fields["description"]["value"])  # type: ignore[index]
    assert "和平大道32号门口路灯" in summary and "坏了有一个星期" in summary
    assert "幺三九" not in summary, "the callback number is offered in the phone field, not summarised"
    # Territorial management: a city bureau's case in 美兰区 goes to its district bureau where one exists.
    unit = fields["unit"]["value"]  # type: ignore[index]
    assert unit and all(f["why"] for f in fields.values())  # type: ignore[index]
    assert not str(unit).startswith(("street.", "town."))


def test_two_districts_named_are_offered_never_filled(engine: SuggestionEngine) -> None:
    fields = _call(engine, ["那个秀英还是龙华我也搞不清楚", "就是路口经常积水"])
    district = fields["district"]
    assert district["value"] == "" and district["offers"] == ["秀英区", "龙华区"]  # type: ignore[index]


def test_a_call_naming_no_place_leaves_location_and_district_empty(engine: SuggestionEngine) -> None:
    fields = _call(engine, ["公司拖欠工资三个月了"])
    assert fields["district"]["value"] == "" and fields["district"]["offers"] == []  # type: ignore[index]
    assert fields["location_text"]["value"] == ""  # type: ignore[index]
