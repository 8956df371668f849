"""Citizens' words reach the duty catalogue's words: 假化肥 finds 农资质量监管, and a broken terms file is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from routing.kb.seed import read_seed
from routing.suggest.cli import app
from routing.suggest.duty_terms import DutyTerm, DutyTerms, DutyTermsError, parse_terms, said_in
from routing.suggest.leaves import read_leaves
from routing.suggest.unit_model import UnitModel, unit_documents, unit_matters


def test_a_said_word_brings_its_official_words_along_once() -> None:
    terms = DutyTerms([DutyTerm("农资质量监管", ("化肥", "农药")), DutyTerm("渔业管理", ("电鱼",))])
    assert terms.read("买到了假化肥，农药也是假的") == (
        "买到了假化肥，农药也是假的 农资质量监管",
        {"农资质量监管": "化肥"},
    )
    assert terms.read("路灯坏了") == ("路灯坏了", {})


def test_two_character_words_survive_a_callers_word_in_between_but_not_a_clause_break() -> None:
    assert said_in("被偷", "电动车被人偷了")
    assert said_in("砍树", "有人砍了树")
    assert not said_in("被偷", "被，偷")
    assert not said_in("被偷", "被我们小区的人偷")  # too far apart to be one word
    assert not said_in("病死猪", "病了的死猪")  # longer words only as written


def test_every_official_word_is_a_word_of_the_units_own_texts() -> None:
    texts = " ".join(text for _, text in unit_documents(read_leaves(), read_seed()))
    missing = [
        (term.official, word)
        for term in DutyTerms.packaged().terms
        for word in term.official.split()
        if word not in texts
    ]
    assert missing == []


def test_the_unit_model_finds_duties_written_in_official_words() -> None:
    duties = [
        ("city.agriculture", "负责农资质量监管和农业技术推广"),
        ("city.market", "负责产品质量、计量的监督管理"),
        ("city.forestry", "负责林木资源保护和林木采伐审批"),
    ]
    terms = DutyTerms([DutyTerm("农资质量监管", ("化肥", "农药")), DutyTerm("林木采伐", ("砍树",))])
    plain, with_terms = UnitModel(duties), UnitModel(duties, terms=terms)
    assert [e.code for e in plain.evidence("买的化肥是假的")] != ["city.agriculture"]
    best = with_terms.evidence("买的化肥是假的")[0]
    assert best.code == "city.agriculture"
    assert best.why == "职责/事项：负责农资质量监管和农业技术推广（「化肥」即「农资质量监管」）"
    assert with_terms.evidence("后山有人偷偷砍了树拉走")[0].code == "city.forestry"


def test_the_packaged_engine_reads_callers_words_for_less_common_units() -> None:
    model = UnitModel(unit_documents(read_leaves(), read_seed()), terms=DutyTerms.packaged())
    assert model.evidence("有人在河里电鱼，鱼都快被电光了")[0].code == "city.agriculture"
    assert model.evidence("妇联的免费技能培训怎么报名")[0].code == "city.women_federation"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "terms: [\n  {official: 农资, said: [化肥]},\n  {official: 农资, said: [化肥]}\n]",
            "line 3: repeats line 2",
        ),
        ("terms:\n  - {official: 农资, said: []}\n", "line 2: said must be non-empty words"),
        ("terms:\n  - {official: 农资, said: [化肥, '']}\n", "line 2: said must be non-empty words"),
        ("terms:\n  - {official: 农资, said: [12315]}\n", "line 2: said must be non-empty words"),
        ("terms:\n  - {official: 农资}\n", "line 2: expected {official: ..., said: [...]}"),
        ("terms:\n  - {official: 农资, said: [化肥], unit: city.agriculture}\n", "line 2: expected"),
        ("terms: {official: 农资}\n", "expected one 'terms' list"),
        ("- 农资\n", "expected a mapping"),
        ("terms: [\x00]\n", "not YAML"),
    ],
)
def test_a_malformed_terms_file_is_refused_with_its_line(text: str, says: str) -> None:
    with pytest.raises(DutyTermsError, match=r"x\.yaml") as refused:
        parse_terms(text, "x.yaml")
    assert says in str(refused.value)


def test_the_terms_command_checks_an_edited_file_and_shows_a_reading(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["terms", "--text", "买到了假化肥"])
    assert ok.exit_code == 0, ok.output
    out = ok.output.replace("\n", "")
    assert "lines" in out and "「化肥」即「农资质量监管」" in out
    bad = tmp_path / "terms.yaml"
    bad.write_text("terms:\n  - {official: 农资, said: [化肥]}\n  - {official: 农资}\n", encoding="utf-8")
    refused = runner.invoke(app, ["terms", str(bad)])
    assert refused.exit_code == 1
    assert "refused" in refused.output and "line 3" in refused.output.replace("\n", "")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    unreadable = runner.invoke(app, ["terms", str(binary)])
    assert unreadable.exit_code == 1 and "cannot read" in unreadable.output


def test_the_matter_list_names_only_known_units_and_holds_only_text(tmp_path: Path) -> None:
    known = {"city.agriculture"}
    good = tmp_path / "ok.yaml"
    good.write_text("units:\n  city.agriculture: [买到假化肥, ' 电鱼 ']\n", encoding="utf-8")
    assert unit_matters(good, known) == [("city.agriculture", "买到假化肥"), ("city.agriculture", "电鱼")]
    for body, says in [
        ("units:\n  city.nowhere: [化肥]\n", "unknown unit 'city.nowhere'"),
        ("units:\n  city.agriculture: 化肥\n", "city.agriculture: expected a list"),
        ("units:\n  city.agriculture: [化肥, 12]\n", "city.agriculture: expected a list"),
        ("units: [化肥]\n", "expected 'units:' mapping"),
    ]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(body, encoding="utf-8")
        with pytest.raises(ValueError, match=r"bad\.yaml") as refused:
            unit_matters(bad, known)
        assert says in str(refused.value)
