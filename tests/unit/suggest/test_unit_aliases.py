"""Callers name units (交警, 车管所, 移动的卡): the name counts, longest first, and a broken file is refused."""

from __future__ import annotations

import pytest

from routing.kb.seed import read_seed
from routing.suggest.factory import unit_model
from routing.suggest.leaves import read_leaves
from routing.suggest.unit_aliases import UnitAliases, UnitAliasesError, parse_aliases
from routing.suggest.unit_model import UnitModel

KNOWN = {"city.public_security", "city.traffic_police", "company.telecom", "city.market"}


def test_the_longest_name_wins_and_numbers_count_only_whole() -> None:
    aliases = UnitAliases(
        {"警察": "city.public_security", "交通警察": "city.traffic_police", "电信": "company.telecom",
         "电信诈骗": "city.public_security", "110": "city.public_security"}
    )  # fmt: skip
    assert aliases.named("交通警察来了") == {"city.traffic_police": "交通警察"}
    assert aliases.named("我被电信诈骗了") == {"city.public_security": "电信诈骗"}
    assert aliases.named("转了1100元") == {}
    assert aliases.named("打了110") == {"city.public_security": "110"}
    assert aliases.named("") == {}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("units:\n  city.nowhere: [某局]\n", "line 2: unknown unit 'city.nowhere'"),
        (
            "units:\n  city.market: [工商局]\n  city.public_security: [工商局]\n",
            "line 3: '工商局' already names",
        ),
        ("units:\n  city.market: ['  ']\n", "line 2: city.market: a name must be non-empty text"),
        ("units:\n  city.market: 工商局\n", "line 2: city.market: expected a list of names"),
        ("units: [a, b]\n", "expected one 'units' mapping"),
        ("units: [\n", "not YAML"),
    ],
)
def test_a_malformed_aliases_file_is_refused_with_its_line(text: str, error: str) -> None:
    with pytest.raises(UnitAliasesError, match=error.replace("[", r"\[").replace("(", r"\(")):
        parse_aliases(text, KNOWN)


def test_a_named_unit_is_lifted_over_a_near_tie_and_says_why() -> None:
    duties = [
        ("city.traffic_police", "负责交通事故处理和道路交通秩序管理"),
        ("city.transport", "负责出租车和网约车的行业监管"),
    ]
    aliases = UnitAliases({"交警": "city.traffic_police"})
    text = "开网约车出了事故，交警判我全责"
    assert UnitModel(duties).evidence(text)[0].code == "city.transport"
    best = UnitModel(duties, aliases=aliases).evidence(text)[0]
    assert best.code == "city.traffic_police"
    assert best.why.startswith("来电人提到「交警」")


def test_a_named_unit_counts_even_when_no_duty_matches() -> None:
    model = UnitModel(
        [("city.market", "负责食品安全监督管理")], aliases=UnitAliases({"海关": "city.customs"})
    )
    [only] = model.evidence("海关那边一直没放行")
    assert (only.code, only.why) == ("city.customs", "来电人提到「海关」")


def test_the_packaged_names_belong_to_units_that_lead_cases() -> None:
    model = unit_model(read_leaves(), read_seed())
    assert model.aliases is not None
    assert set(model.aliases.names.values()) <= set(model.unit_codes)
    assert model.evidence("我用的是移动的卡，家里一点信号都没有")[0].code == "company.mobile"
