"""Dispatch rules as a pure function of the reference data."""

from __future__ import annotations

from routing.dispatch import CategoryInfo, Dispatcher, KeywordRule, UnitInfo, UrgentInfo
from routing.domain.enums import AssignmentRole

UNITS = [
    UnitInfo("city.housing", "市住建局", "city_bureau", None, None, ()),
    UnitInfo("city.enforcement", "市综合执法局", "city_bureau", None, None, ()),
    UnitInfo(
        "district_bureau.meilan.housing", "美兰区住建局", "district_bureau", "美兰区", "district.meilan", ()
    ),
    UnitInfo(
        "district_bureau.meilan.enforcement",
        "美兰区综合执法局",
        "district_bureau",
        "美兰区",
        "district.meilan",
        (),
    ),
    UnitInfo("street.meilan.haidian", "海甸街道", "street", "美兰区", "district.meilan", ("海甸岛", "海甸")),
    UnitInfo("utility.power", "海口供电局", "utility", None, None, ()),
    UnitInfo("company.airport", "美兰机场", "public_company", None, None, ()),
    UnitInfo("hotline.center", "12345热线中心", "hotline", None, None, ()),
]
CATS = [
    CategoryInfo(
        1,
        "城乡建设/住房保障与房地产/物业服务",
        "城乡建设",
        "complaint",
        False,
        "city.housing",
        (),
        "district_bureau.{district}.housing",
    )
]
RULES = [
    KeywordRule("机场服务", ("美兰机场",), None, "company.airport", ()),
    KeywordRule("施工噪音", ("夜间施工",), None, "city.enforcement", ()),
]
URGENT = [UrgentInfo("power_outage", "停电", ("停电", "没电了"), "utility.power", 10)]
D = Dispatcher(CATS, RULES, URGENT, UNITS)


def test_category_goes_to_the_district_counterpart_when_the_district_is_known() -> None:
    r = D.route(1, "美兰区", "物业不作为")
    assert r.lead == "district_bureau.meilan.housing" and r.reasons
    assert D.route(1, None, "物业不作为").lead == "city.housing"


def test_address_names_the_street_which_assists_and_implies_the_district() -> None:
    r = D.route(1, None, "物业不作为", "海甸岛五西路")
    assert r.district == "美兰区" and r.lead == "district_bureau.meilan.housing"
    assert [(t.unit_code, t.role) for t in r.targets][1] == ("street.meilan.haidian", AssignmentRole.ASSIST)


def test_urgent_class_wins_and_the_category_unit_assists() -> None:
    r = D.route(1, "美兰区", "整栋楼停电了")
    assert r.urgent_class == "power_outage" and r.lead == "utility.power"
    assert "district_bureau.meilan.housing" in [t.unit_code for t in r.targets]


def test_keyword_rule_follows_territorial_management() -> None:
    assert D.route(None, "美兰区", "工地夜间施工扰民").lead == "district_bureau.meilan.enforcement"
    assert D.route(None, None, "工地夜间施工扰民").lead == "city.enforcement"
    assert D.route(None, "美兰区", "美兰机场出租车拒载").lead == "company.airport"


def test_nothing_known_goes_to_the_hotline_for_manual_dispatch() -> None:
    r = D.route(None, None, "我有个问题")
    assert r.lead == "hotline.center" and "人工" in r.reasons[-1]
