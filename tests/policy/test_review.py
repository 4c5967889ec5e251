"""The review document and gate sources: every gate traced to the plan or a named instrument."""

from pathlib import Path
from typing import Any

import pytest

from service.cli import main as cli
from service.core.settings import PROJECT_ROOT
from service.policy.catalogue import CatalogueError, load_catalogue
from service.policy.profile import field_specs
from service.policy.review import indicator_lines, render_review
from service.policy.review_words import FIELD_NAMES
from service.policy.rules import comparisons_of
from tests.factories import real_catalogue
from tests.policy_copies import edit_yaml

FIDELITY = PROJECT_ROOT / "docs" / "fidelity.md"
REAL = real_catalogue()
SME_SIZE = "ladder-training-courses"


def _problems(policies: Path) -> str:
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(policies)
    return "\n".join(caught.value.problems)


def test_docs_fidelity_md_is_what_the_review_command_writes() -> None:
    """docs/fidelity.md cannot drift from the policies: regenerate with `policy-match review`."""
    assert FIDELITY.read_text(encoding="utf-8") == render_review(REAL)
    assert cli(["review", "--check"]) == 0


@pytest.mark.slow
def test_the_review_command_writes_and_checks_its_file(tmp_path: Path) -> None:
    output = tmp_path / "fidelity.md"
    assert cli(["review", "--check", "--output", str(output)]) == 1  # no file yet
    assert cli(["review", "--output", str(output)]) == 0
    assert output.read_text(encoding="utf-8") == render_review(REAL)
    output.write_text(output.read_text(encoding="utf-8") + "手工修改\n", encoding="utf-8")
    assert cli(["review", "--check", "--output", str(output)]) == 1


def test_every_measure_has_its_section_in_simplified_script() -> None:
    text = render_review(REAL)
    sections = text.split("\n### ")[1:]
    assert len(sections) == len(REAL.measures)
    for measure, section in zip(REAL.measures, sections, strict=True):
        assert f"（`{measure.measure_id}`）" in section.splitlines()[0]
        quotes = [line for line in section.splitlines() if line.startswith("- **原文**：")]
        assert len(quotes) == len(measure.spec.source.quote)
        # the traditional forms of the plan's most frequent characters are gone from the quote
        assert not any(c in "".join(quotes) for c in "專業與貸獎")
        assert f"- **服务对象**：{measure.spec.serves.zh_hans}" in section
        assert section.count("依据") >= len(measure.comparison_objects)
    assert "江府办函〔2024〕13号" in text and "## 审阅原则" in text and "## 怎样阅读" in text


def test_a_gate_set_by_an_instrument_names_it_with_number_and_date() -> None:
    section = render_review(REAL).split(f"（`{SME_SIZE}`）")[2]  # overview row, then section
    assert "依据《关于印发中小企业划型标准规定的通知》（工信部联企业〔2011〕300号" in section
    assert "2011-06-18" in section


def test_each_measure_lists_the_indicators_that_name_it() -> None:
    named = {m for i in REAL.indicators for m in i.measures}
    for measure in REAL.measures:
        lines = indicator_lines(REAL, measure.measure_id)
        assert bool(lines) == (measure.measure_id in named), measure.measure_id
    brand = indicator_lines(REAL, "brand-cultivation-services")
    assert brand == [
        "拥有2个以上注册商标（注册商标不少于2个；一(二)：“提高企业拥有2个以上注册商标的比例”）"
    ]
    review = render_review(REAL)
    assert review.count("- **指标**：（暂无）") == len(REAL.measures) - len(named)


def test_every_profile_field_has_a_name_for_policy_staff() -> None:
    assert set(field_specs(REAL.vocabularies)) <= set(FIELD_NAMES)


def test_the_plans_indicators_and_outside_criteria_are_not_gates() -> None:
    """Trademarks, invention patents, digital level: targets of the plan, never conditions."""
    for measure in REAL.measures:
        fields = {t.field for t in comparisons_of(measure.spec.eligibility)}
        assert not fields & {"trademarks", "invention_patents", "digital_level"}, measure


def test_every_gate_traces_to_the_plan_or_a_declared_instrument() -> None:
    traced = 0
    for measure in REAL.measures:
        spec = measure.spec
        declared = {i.id for i in spec.instruments}
        for test in comparisons_of(spec.eligibility):
            if test.source is not None and test.source.instrument is not None:
                assert test.source.instrument in declared
                traced += 1
            elif test.source is not None and test.source.plan is not None:
                assert test.source.plan in "".join(spec.source.quote)
    assert traced >= 4  # the SME size tests of two measures


def test_check_refuses_a_gate_citing_an_undeclared_instrument(policies: Path) -> None:
    def cite(d: dict[str, Any]) -> None:
        d["eligibility"]["all"][1]["source"] = {"instrument": "miit-2022-interim-rules"}

    edit_yaml(policies / "measures/loan-interest-subsidy.yaml", cite)
    problems = _problems(policies)
    assert "measures/loan-interest-subsidy.yaml: eligibility (test 2, field 'has_bank_loan')" in (
        problems
    )
    assert "instrument 'miit-2022-interim-rules' is not declared" in problems


def test_check_refuses_plan_words_the_quote_does_not_hold(policies: Path) -> None:
    def cite(d: dict[str, Any]) -> None:
        d["eligibility"]["all"][0]["source"] = {"plan": "省級及以上專精特新企業"}

    edit_yaml(policies / "measures/loan-interest-subsidy.yaml", cite)
    problems = _problems(policies)
    assert "the words '省級及以上專精特新企業' are not in the measure's quote" in problems


def test_check_refuses_a_source_that_names_nothing(policies: Path) -> None:
    edit_yaml(
        policies / "measures/loan-interest-subsidy.yaml",
        lambda d: d["eligibility"]["all"][0].update(source={}),
    )
    assert "a source names either `plan`" in _problems(policies)


def test_check_refuses_an_instrument_without_number_or_date(policies: Path) -> None:
    def strip(d: dict[str, Any]) -> None:
        del d["instruments"][0]["number"]
        del d["instruments"][0]["issued_on"]

    edit_yaml(policies / f"measures/{SME_SIZE}.yaml", strip)
    problems = _problems(policies)
    assert f"measures/{SME_SIZE}.yaml: instruments.0.number: Field required" in problems
    assert f"measures/{SME_SIZE}.yaml: instruments.0.issued_on: Field required" in problems


def test_check_refuses_an_instrument_no_gate_cites(policies: Path) -> None:
    def uncite(d: dict[str, Any]) -> None:
        for member in d["eligibility"]["any"]:
            member.pop("source")

    edit_yaml(policies / f"measures/{SME_SIZE}.yaml", uncite)
    assert "'sme-size-2011' is declared but no gate or period cites it" in _problems(policies)


@pytest.mark.slow
def test_a_period_other_than_the_plans_needs_the_instrument_that_sets_it(policies: Path) -> None:
    path = policies / "measures/loan-interest-subsidy.yaml"
    edit_yaml(path, lambda d: d.update(valid_until="2025-12-31"))
    assert "is not the plan's period (2024-01-30..2026-12-31)" in _problems(policies)

    def cite(d: dict[str, Any]) -> None:
        d["instruments"] = [
            {
                "id": "city-2025-round",
                "title": {"zh-Hans": "贴息通知", "zh-Hant": "貼息通知", "en": "call"},
                "number": "江工信〔2025〕1号",
                "issued_by": {"zh-Hans": "市工信局", "zh-Hant": "市工信局", "en": "MIIT"},
                "issued_on": "2025-01-15",
            }
        ]
        d["period_source"] = "city-2025-round"

    edit_yaml(path, cite)
    catalogue = load_catalogue(policies)
    section = render_review(catalogue).split("（`loan-interest-subsidy`）")[2]
    assert "2024-01-30 至 2025-12-31（依据《贴息通知》（江工信〔2025〕1号" in section
