"""Extraction from the citizen's words: numbers, place and district, callback number, case type, summary."""

from __future__ import annotations

import pytest

from routing.assist.extract import callback_number, case_type, locate, summarize
from routing.assist.gazetteer import default_gazetteer
from routing.assist.spoken import figures_for_quantities, phone_numbers, quantity
from routing.commands import normalize_phone


@pytest.mark.parametrize(
    ("said", "digits"),
    [
        ("幺三八零零幺三八零零零", "13800138000"),
        ("幺三八 零零幺三 八零零零", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("一三八、零零一三、八零零零", "13800138000"),
        ("幺八六，零八九八，幺二三四", "18608981234"),
        ("六六一二三四五六", "66123456"),
    ],
)
def test_phone_numbers_said_digit_by_digit(said: str, digits: str) -> None:
    assert [n.digits for n in phone_numbers(f"我的电话是{said}谢谢")] == [digits]


def test_quantities_are_not_phone_numbers_and_become_figures_before_address_words() -> None:
    assert phone_numbers("一百二十三号") == [] and phone_numbers("三天") == []
    assert quantity("三十二") == 32 and quantity("一百零五") == 105 and quantity("十") == 10
    assert figures_for_quantities("和平大道三十二号二栋三单元") == "和平大道32号2栋3单元"
    assert figures_for_quantities("海府一横路") == "海府一横路"  # a road's own name keeps its numeral


def test_one_place_gives_its_district_and_the_address_as_said() -> None:
    g = default_gazetteer()
    guess = locate("嗯我住在海甸岛和平大道三十二号门口那个路灯坏了", g)
    assert (guess.district, guess.address) == ("美兰区", "海甸岛和平大道32号门口")
    misheard = locate("我住在海店岛和平大到", g)
    assert misheard.address == "海甸岛和平大道" and misheard.district == "美兰区"
    assert "按读音" in misheard.why


def test_no_place_leaves_the_fields_empty() -> None:
    guess = locate("我家楼下太吵了，晚上睡不着", default_gazetteer())
    assert (guess.address, guess.district, guess.candidates) == ("", None, ())


def test_two_districts_named_leave_the_district_empty_and_offer_both() -> None:
    guess = locate("那个秀英还是龙华我也搞不清楚", default_gazetteer())
    assert guess.district is None and guess.candidates == ("秀英区", "龙华区")


def test_a_road_across_districts_is_not_guessed_but_another_place_settles_it() -> None:
    g = default_gazetteer()
    road = locate("海秀快速路上有一个大坑", g)
    assert road.district is None and road.candidates == ("秀英区", "龙华区") and road.address == "海秀快速路"
    settled = locate("滨海大道滨海新天地门口", g)
    assert settled.district == "龙华区"


def test_a_district_contradicted_by_the_place_offers_both() -> None:
    guess = locate("我在秀英区海甸岛和平大道", default_gazetteer())
    assert guess.district is None and guess.candidates == ("秀英区", "美兰区")


def test_a_callback_number_read_out_is_offered_unless_it_is_the_callers_own() -> None:
    said = "你们回电话打我这个号码，幺三九零七五五幺二三四"
    offer = callback_number(said, "13800138000", normalize_phone)
    assert offer is not None and offer.number == "13907551234" and "回电" in offer.why
    assert callback_number("我的电话是幺三八零零幺三八零零零", "13800138000", normalize_phone) is None
    landline = callback_number("座机是六六一二三四五六", "13800138000", normalize_phone)
    assert landline is not None and landline.number == "089866123456"
    assert callback_number("编号是一二三四五六七八九", "13800138000", normalize_phone) is None  # not a phone


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        ("我想表扬一下公交车司机", "praise"),
        ("我建议在公园增设一个公交站", "suggestion"),
        ("我要举报有人偷排污水", "report"),
        ("请问新生儿上户口需要什么材料", "consultation"),
        ("我家老人走失了，请帮帮忙", "help_request"),
        ("我要投诉物业，电梯坏了半个月", "complaint"),
    ],
)
def test_the_case_type_from_what_the_citizen_says(said: str, kind: str) -> None:
    assert case_type(said).case_type == kind


def test_the_category_decides_the_type_when_the_words_do_not() -> None:
    guess = case_type("路灯", default="complaint")
    assert guess.case_type == "complaint" and guess.why == "按分类的常见类型"


def test_the_summary_keeps_what_where_since_when_and_what_is_wanted_without_hesitations() -> None:
    summary = summarize(
        [
            "喂你好",
            "嗯那个我是住在海甸岛和平大道三十二号的",
            "我们门口那个路灯坏了一个星期了，晚上特别黑",
            "希望你们尽快派人来修一下",
            "好的谢谢",
        ],
        what=["路灯"],
        location="海甸岛和平大道32号",
    )
    assert "路灯坏了一个星期" in summary and "和平大道32号" in summary and "尽快派人" in summary
    assert "嗯" not in summary and "喂" not in summary and "那个" not in summary
    assert summary.endswith("。") and len(summary) <= 161
    assert summarize(["喂", "你好"]) == ""
