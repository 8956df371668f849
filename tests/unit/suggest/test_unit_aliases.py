"""Callers name units (交警, 车管所, 移动的卡): the name counts, longest first, and a broken file is refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routing.kb.seed import read_seed
from routing.suggest.cli import app
from routing.suggest.factory import unit_model
from routing.suggest.leaves import read_leaves
from routing.suggest.unit_aliases import UnitAliases, UnitAliasesError, parse_aliases
from routing.suggest.unit_model import UnitModel

KNOWN = {"city.public_security", "city.traffic_police", "company.telecom", "city.market"}


def test_names_count_as_whole_words_longest_first_and_numbers_only_when_dialled() -> None:
    aliases = UnitAliases(
        {"警察": "city.public_security", "交通警察": "city.traffic_police", "交警": "city.traffic_police",
         "电信": "company.telecom", "电信诈骗": "city.public_security", "110": "city.public_security",
         "工会": "city.trade_union", "报警": "city.public_security"}
    )  # fmt: skip
    assert aliases.named("交通警察来了") == {"city.traffic_police": "交通警察"}
    assert aliases.named("我被电信诈骗了") == {"city.public_security": "电信诈骗"}
    assert aliases.named("提交警察") == {"city.public_security": "警察"}  # not 交警 across two words
    assert aliases.named("交警判我全责") == {"city.traffic_police": "交警"}
    assert aliases.named("找工会") == {"city.trade_union": "工会"}
    assert aliases.named("打了110") == aliases.named("拨打１１０") == {"city.public_security": "110"}
    for ordinary in (
        "晚上施工会吵",
        "员工会不会",
        "已经移交警方处理",
        "烟雾报警器响了",
        "交了110元",
        "110千伏",
    ):
        assert aliases.named(ordinary) == {}, ordinary
    assert aliases.named("") == {}


UNQUOTED = "units:\n  city.market: [0110]\n"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "units:\n  city.nowhere: [某局]\n",
            "line 2: 'city.nowhere' is not a unit that leads cases city-wide",
        ),
        (
            "units:\n  city.market: [工商局]\n  city.public_security: [工商局]\n",
            "line 3: '工商局' already names",
        ),
        ("units:\n  city.market: ['  ']\n", "line 2: city.market: a name must be non-empty text"),
        ("units:\n  city.market: 工商局\n", "line 2: city.market: expected a list of names"),
        (UNQUOTED, "line 2: city.market: a name must be text (quote numbers)"),
        ("units:\n  city.market: [yes]\n", "a name must be text"),
        ("units:\n  city.market: [!foo 工商局]\n", "a name must be text"),
        ("units:\n  [a]: [工商局]\n", "line 2: a unit code must be text"),
        ("units: [a, b]\n", "expected one 'units' mapping"),
        ("units: [\n", "not YAML"),
    ],
)
def test_a_malformed_aliases_file_is_refused_with_its_line(text: str, error: str) -> None:
    with pytest.raises(UnitAliasesError, match=re.escape(error)):
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


def test_the_packaged_names_reach_the_engine() -> None:
    model = unit_model(read_leaves(), read_seed())
    assert model.evidence("我用的是移动的卡，家里一点信号都没有")[0].code == "company.mobile"


def test_the_staff_check_an_edited_names_file_and_see_what_a_request_names(tmp_path: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["aliases", "--text", "交警判我全责，施工会吵"])
    assert shown.exit_code == 0, shown.output
    assert "「交警」→ city.traffic_police" in shown.output and "trade_union" not in shown.output
    edited = tmp_path / "unit_aliases.yaml"
    edited.write_text("units:\n  city.market: [工商局]\n  city.public_security: [工商局]\n", encoding="utf-8")
    refused = runner.invoke(app, ["aliases", str(edited)])
    assert refused.exit_code == 1 and "line 3" in refused.output and "already names" in refused.output
