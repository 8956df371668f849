from __future__ import annotations

from datetime import UTC, datetime

import pytest

from routing.kb.index import KbIndex
from routing.kb.model import Article
from routing.suggest.classifier import CategoryClassifier, fit
from routing.suggest.leaves import LeafScorer, read_leaves
from routing.suggest.service import SuggestionEngine
from routing.suggest.units import dispatcher_from_files, suggest_units

NOW = datetime(2025, 10, 1, tzinfo=UTC)
TRAIN = {
    "城乡建设": ["路灯坏了没人修", "小区物业不管电梯", "楼下违章建筑", "道路坑洼积水", "停水好几天"],
    "劳动和社会保障": ["公司拖欠工资", "社保怎么转移", "养老金没发", "被辞退没有补偿", "失业金申领"],
    "交通运输": ["出租车绕路", "公交车不停站", "网约车乱收费", "货车超载", "快递丢件"],
}


@pytest.fixture(scope="module")
def classifier() -> CategoryClassifier:
    texts = [t for ts in TRAIN.values() for t in ts]
    labels = [k for k, ts in TRAIN.items() for _ in ts]
    return fit("char12_svm", texts, labels)


@pytest.fixture(scope="module")
def engine(classifier: CategoryClassifier) -> SuggestionEngine:
    leaves = read_leaves()
    kb = KbIndex(
        [Article("ld", "拖欠工资投诉", "向劳动保障监察投诉欠薪。", "劳动和社会保障/工资福利/工资发放")]
    )
    return SuggestionEngine(classifier, LeafScorer(leaves), dispatcher_from_files(leaves), kb, lambda: NOW)


def test_categories_are_ranked_probabilities_named_as_in_the_taxonomy(engine: SuggestionEngine) -> None:
    result = engine.suggest("老板拖欠工资两个月")
    names = [c.name for c in result.categories]
    assert names[0] == "劳动和社会保障"
    assert len(names) >= 3
    assert set(names) <= {leaf.level1 for leaf in read_leaves()}
    scores = [c.score for c in result.categories]
    assert scores == sorted(scores, reverse=True)
    assert sum(scores) == pytest.approx(1.0)


def test_leaves_lie_within_the_top_categories_and_units_have_reasons(engine: SuggestionEngine) -> None:
    result = engine.suggest("老板拖欠工资两个月")
    assert result.leaves[0].name.startswith("劳动和社会保障/工资福利/")
    assert result.units[0].code == "city.hrss"
    assert all(u.reason for u in result.units)
    assert result.articles[0]["key"] == "ld"
    assert "<mark>" in str(result.articles[0]["title_html"])


def test_final_utterances_of_a_call_accumulate(engine: SuggestionEngine) -> None:
    engine.on_final_utterance("喂你好", "call-1")
    result = engine.on_final_utterance("我想反映出租车绕路的问题", "call-1")
    assert result.call_id == "call-1"
    assert result.categories[0].name == "交通运输"
    assert engine._transcripts["call-1"].startswith("喂你好")
    engine.call_ended("call-1")
    assert "call-1" not in engine._transcripts


def test_suggestions_serialize_for_the_desk(engine: SuggestionEngine) -> None:
    data = engine.suggest("路灯坏了").to_dict()
    assert set(data) >= {"categories", "leaves", "units", "articles", "call_id", "compute_ms"}


def test_each_final_utterance_brings_articles_categories_and_units(engine: SuggestionEngine) -> None:
    first = engine.on_final_utterance("喂你好", "call-2")
    assert engine.last("call-2") is first
    result = engine.on_final_utterance("老板拖欠工资两个月", "call-2")
    assert engine.last("call-2") is result, "the desk's feedback refers to the latest suggestions"
    assert result.text == "喂你好 老板拖欠工资两个月"
    assert result.categories[0].name == "劳动和社会保障" and result.units[0].code == "city.hrss"
    article = result.articles[0]
    assert article["key"] == "ld" and "<mark>" in str(article["title_html"])
    engine.call_ended("call-2")
    assert engine.last("call-2") is None


def test_a_unit_that_assists_on_one_leaf_and_leads_on_another_is_suggested_as_the_lead() -> None:
    leaves = read_leaves()
    dispatcher = dispatcher_from_files(leaves)
    paths = ["城乡建设/住房保障与房地产/产权交易", "城乡建设/住房保障与房地产/房地产开发管理"]
    scored = [
        (next(x for x in leaves if x.path == path), score)
        for path, score in zip(paths, (0.6, 0.4), strict=True)
    ]
    # 产权交易: 不动产登记 leads, 住建 assists (0.3); 房地产开发管理: 住建 leads (0.4) → 住建 first, as lead
    first = suggest_units(dispatcher, scored, "房地产中介协会")[0]
    assert (first.code, first.role) == ("city.housing", "lead")
    assert "协办" not in first.reason
