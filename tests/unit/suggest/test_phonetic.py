"""Recognition errors read by sound: 佛地产 still finds 房地产, and the desk is told why."""

from __future__ import annotations

from datetime import UTC, datetime

from routing.kb.index import KbIndex
from routing.kb.seed import read_seed
from routing.suggest.factory import unit_model
from routing.suggest.leaves import read_leaves
from routing.suggest.phonetic import SoundAlike

NOW = datetime(2025, 10, 1, tzinfo=UTC)


def test_near_and_same_sounding_spans_are_read_as_vocabulary_words() -> None:
    sounds = SoundAlike(["房地产", "公积金", "社保卡", "营业执照"])
    assert [(c.heard, c.word, c.how) for c in sounds.corrections("国州市佛地产中间协会")] == [
        ("佛地产", "房地产", "音近")
    ]
    assert [(c.word, c.how) for c in sounds.corrections("公基金怎么提取")] == [("公积金", "同音")]
    assert [c.why() for c in sounds.corrections("社报卡丢了")] == ["「社报卡」同音「社保卡」"]
    assert sounds.corrections("房地产中介") == []  # the word itself is no error
    assert sounds.corrections("时间事件") == []  # two syllables: too many homophones to guess


def test_the_knowledge_base_finds_real_estate_from_a_misheard_word_and_says_why() -> None:
    index = KbIndex(read_seed())
    hits = index.search("佛地产中介收了定金不退", NOW, 3)
    assert hits and "房地产" in hits[0].title_html + " ".join(hits[0].matched)
    assert hits[0].heard == ("「佛地产」音近「房地产」",)
    assert hits[0].to_dict()["heard"] == ["「佛地产」音近「房地产」"]


def test_the_units_own_duties_decide_the_known_misses() -> None:
    model = unit_model(read_leaves(), read_seed())  # as the engine builds it
    cases = {
        "孩子刚出生一个月，新生儿上户口要带什么材料": "city.public_security",
        "我想开个奶茶店，办营业执照需要什么手续": "city.market",
        "饭店卫生很差，吃完回家全家都拉肚子": "city.market",
        "孩子的高考准考证丢了怎么办": "city.education",
    }
    for text, unit in cases.items():
        assert model.evidence(text)[0].code == unit, text
    signal = [e.code for e in model.evidence("手机信号特别差，打电话老是断")[:3]]
    assert {"company.mobile", "company.telecom", "company.unicom"} & set(signal), signal
