from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import yaml

from routing.kb.index import KbIndex, highlight
from routing.kb.model import Article, ArticleStatus
from routing.kb.seed import read_seed
from routing.reference import data_file

NOW = datetime(2025, 10, 1, 4, 0, tzinfo=UTC)


def small_index() -> KbIndex:
    return KbIndex(
        [
            Article(
                "a",
                "租房提取住房公积金",
                "无房职工可提取公积金支付房租。",
                "城乡建设/住房保障与房地产/住房公积金",
            ),
            Article("b", "停电报修", "突然停电的拨打95598报修。", "城乡建设/城市建设和市政管理/电力供应"),
            Article("c", "旧的停电报修", "已废止。", valid_to=date(2024, 12, 31)),
            Article("d", "未来的停电报修", "尚未生效。", valid_from=date(2026, 1, 1)),
            Article("e", "草稿停电", "草稿。", status=ArticleStatus.DRAFT),
        ]
    )


def test_synonyms_bring_the_articles_own_words() -> None:
    hits = small_index().search("社保和公积金怎么付房租", NOW)
    assert hits[0].article.key == "a"
    assert "住房公积金" in hits[0].matched


def test_only_articles_in_force_and_published_are_returned() -> None:
    keys = [h.article.key for h in small_index().search("停电", NOW, k=10)]
    assert keys == ["b"]
    later = [h.article.key for h in small_index().search("停电", datetime(2026, 2, 1, tzinfo=UTC), k=10)]
    assert set(later) == {"b", "d"}


def test_unknown_words_find_nothing() -> None:
    assert small_index().search("量子计算机", NOW) == []


def test_highlight_escapes_html_and_marks_longest_term_first() -> None:
    assert (
        highlight("<b>住房公积金</b>", ["公积金", "住房公积金"])
        == "&lt;b&gt;<mark>住房公积金</mark>&lt;/b&gt;"
    )


@pytest.fixture(scope="module")
def seed_index() -> KbIndex:
    return KbIndex(read_seed())


def test_seed_has_at_least_200_articles_with_known_units() -> None:
    articles = read_seed()
    assert len(articles) >= 200
    units = {
        u["code"] for u in yaml.safe_load(data_file("departments.yaml").read_text(encoding="utf-8"))["units"]
    }
    unknown = {a.unit_code for a in articles if a.unit_code and a.unit_code not in units}
    assert unknown == set()


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("我想问一下公积金怎么提取来付房租", "gjj-tiqu-zufang"),
        ("孩子明年上小学，一年级怎么报名", "jy-xiaoyi-baoming"),
        ("家里闻到很大的煤气味怎么办", "sd-ranqi-xielou"),
        ("老板拖欠我三个月工资", "ld-tuoqian-gongzi"),
        ("外省的候鸟老人在海口看病医保能直接结算吗", "yb-houniao-jiuyi"),
        ("出租车司机绕路不打表", "jt-chuzuche-tousu"),
        ("新生儿怎么上户口", "huji-chusheng-dengji"),
        ("楼下路灯不亮好几天了", "cg-ludeng"),
    ],
)
def test_realistic_questions_find_the_right_article(seed_index: KbIndex, query: str, key: str) -> None:
    assert seed_index.search(query, NOW, k=3)[0].article.key == key


def test_the_version_in_force_answers(seed_index: KbIndex) -> None:
    autumn_2024 = datetime(2024, 10, 1, tzinfo=UTC)
    assert seed_index.search("居民医保缴费", autumn_2024, k=1)[0].article.key == "yb-jumin-jiaofei-2025"
    assert seed_index.search("居民医保缴费", NOW, k=1)[0].article.key == "yb-jumin-jiaofei-2026"
