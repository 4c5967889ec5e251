"""Loading policies/: the real catalogue, and broken files refused with file and field named."""

from pathlib import Path
from typing import Any

import pytest

from service.cli import main as cli
from service.matching.cases import load_checked_catalogue
from service.policy.catalogue import CatalogueError, load_catalogue
from service.policy.rules import comparisons_of
from tests.policy_copies import POLICIES, edit_yaml

CONTRACT_KINDS = {
    "loan_interest_subsidy",
    "zyb_digital_interest_subsidy",
    "land_green_channel",
    "talent_incentive",
    "listing_support",
}
CLAUSES = {"二(一)", *(f"二(二){i}" for i in range(1, 6)), *(f"二(三){i}" for i in range(1, 6))}


def test_the_plan_is_encoded_whole() -> None:
    catalogue = load_checked_catalogue(POLICIES)
    assert 35 <= len(catalogue.measures) <= 55
    assert {m.spec.kind for m in catalogue.measures} >= CONTRACT_KINDS
    assert {m.spec.clause for m in catalogue.measures} == CLAUSES


def test_every_measure_quotes_the_plan_verbatim() -> None:
    catalogue = load_catalogue(POLICIES)
    assert catalogue.document.id == "江府辦函〔2024〕13號"
    plan = (POLICIES / "plan.txt").read_text(encoding="utf-8")
    issued = plan.replace("政銀?!辟J款", "政銀保”貸款")  # the one erratum of the received copy
    for measure in catalogue.measures:
        assert measure.spec.source.quote, measure.measure_id
        for quote in measure.spec.source.quote:
            assert len(quote) >= 10 and quote in issued, measure.measure_id


def test_lead_department_is_the_first_unit_the_plan_lists() -> None:
    catalogue = load_catalogue(POLICIES)
    land = next(m for m in catalogue.measures if m.spec.kind == "land_green_channel")
    assert [d.code for d in land.departments] == ["natural_resources", "housing_construction"]
    finance = [m for m in catalogue.measures if m.spec.clause == "二(三)2"]
    assert finance and all(m.departments[0].code == "financial_affairs" for m in finance)


def test_version_is_a_content_hash() -> None:
    assert load_catalogue(POLICIES).version == load_catalogue(POLICIES).version


def _problems(policies: Path) -> str:
    with pytest.raises(CatalogueError) as caught:
        load_checked_catalogue(policies)
    return "\n".join(caught.value.problems)


def test_changing_a_measure_changes_the_version(policies: Path) -> None:
    before = load_catalogue(policies).version
    edit_yaml(
        policies / "measures/loan-interest-subsidy.yaml",
        lambda d: d["summary"].update(en="The city subsidises loan interest."),
    )
    assert load_catalogue(policies).version != before


def test_unknown_field_in_a_condition_is_named(policies: Path) -> None:
    edit_yaml(
        policies / "measures/loan-interest-subsidy.yaml",
        lambda d: d["eligibility"]["all"][1].update(field="has_bank_loans"),
    )
    problems = _problems(policies)
    assert "measures/loan-interest-subsidy.yaml" in problems
    assert "'has_bank_loans'" in problems and "not a profile field" in problems


def test_misspelt_tier_is_named(policies: Path) -> None:
    edit_yaml(
        policies / "measures/loan-interest-subsidy.yaml",
        lambda d: d["eligibility"]["all"][0].update(one_of=["provincal"]),
    )
    assert "['provincal'] not allowed" in _problems(policies)


def test_a_quote_not_in_the_plan_is_refused(policies: Path) -> None:
    edit_yaml(
        policies / "measures/loan-interest-subsidy.yaml",
        lambda d: d["source"].update(quote=["對專精特新中小企業給予一百萬元獎勵。"]),
    )
    assert "source.quote.0: not found verbatim in the plan" in _problems(policies)


def test_missing_required_field_is_named(policies: Path) -> None:
    edit_yaml(policies / "measures/loan-interest-subsidy.yaml", lambda d: d.pop("kind"))
    assert "measures/loan-interest-subsidy.yaml: kind: Field required" in _problems(policies)


def test_broken_yaml_is_named(policies: Path) -> None:
    (policies / "measures/loan-interest-subsidy.yaml").write_text("measure_id: [", encoding="utf-8")
    assert "measures/loan-interest-subsidy.yaml: not valid YAML" in _problems(policies)


def test_a_failing_case_is_named_with_its_file(policies: Path) -> None:
    def flip(d: dict[str, Any]) -> None:
        d["cases"][1]["expect"] = "matched"

    edit_yaml(policies / "measures/loan-interest-subsidy.yaml", flip)
    problems = _problems(policies)
    assert "measures/loan-interest-subsidy.yaml: case 'innovative firm with a loan'" in problems
    assert "expected matched, got near_miss (unmet: tier)" in problems


def test_file_name_must_equal_measure_id(policies: Path) -> None:
    (policies / "measures/loan-interest-subsidy.yaml").rename(policies / "measures/loan.yaml")
    assert "must equal the file name" in _problems(policies)


def test_unknown_department_in_a_clause_is_named(policies: Path) -> None:
    edit_yaml(
        policies / "clauses.yaml",
        lambda d: d["clauses"][0]["departments"].append("ministry_of_magic"),
    )
    assert "clauses.yaml: 二(一): unknown department 'ministry_of_magic'" in _problems(policies)


def test_check_command_passes_on_the_real_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["--lang", "en", "check", "--policies", str(POLICIES)]) == 0
    assert "ok:" in capsys.readouterr().out


def test_check_command_fails_naming_file_and_case(
    policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_yaml(
        policies / "measures/loan-interest-subsidy.yaml",
        lambda d: d["cases"][1].update(expect="matched"),
    )
    assert cli(["check", "--policies", str(policies)]) == 1
    err = capsys.readouterr().err
    assert "loan-interest-subsidy.yaml: case 'innovative firm with a loan'" in err


def test_a_quote_from_another_clause_is_refused(policies: Path) -> None:
    land = "開通對專精特新中小企業用地審批服務綠色通道"
    edit_yaml(
        policies / "measures/loan-interest-subsidy.yaml",
        lambda d: d["source"]["quote"].append(land),
    )
    assert "source.quote.1: in the plan, but not in clause 二(二)5" in _problems(policies)


def test_each_measure_keeps_its_own_condition_notes() -> None:
    catalogue = load_catalogue(POLICIES)
    for measure in catalogue.measures:
        written = [c.note for c in comparisons_of(measure.spec.eligibility)]
        served = [c.comparison.note for c in measure.comparison_objects]
        assert served == written, measure.measure_id
