"""Choosing measures: each filter, the county read from the measures' own conditions, and a
problem naming each parameter whose value the catalogue does not know."""

from datetime import date
from pathlib import Path

from service.core.i18n import translate
from service.policy.catalogue import load_catalogue
from service.policy.measure_filter import MAX_TEXT, MeasureFilter, chosen_measures, read_filter
from tests.factories import real_catalogue
from tests.policy_copies import edit_yaml

REAL = real_catalogue()
EVERY = [m.measure_id for m in REAL.measures]


def _ids(chosen: MeasureFilter) -> list[str]:
    return [m.measure_id for m in chosen_measures(REAL, chosen)]


def test_no_filter_keeps_every_measure_in_the_plan_s_order() -> None:
    chosen, problems = read_filter(REAL, {})
    assert problems == {} and chosen == MeasureFilter()
    assert _ids(chosen) == EVERY


def test_each_filter_keeps_the_measures_it_names() -> None:
    assert _ids(MeasureFilter(kind="central_fund")) == [
        m.measure_id for m in REAL.measures if m.spec.kind == "central_fund"
    ]
    lead = REAL.measures[0].departments[0].code
    assert _ids(MeasureFilter(department=lead)) == [
        m.measure_id for m in REAL.measures if m.departments[0].code == lead
    ]
    assert _ids(MeasureFilter(in_force_on=date(2027, 1, 1))) == []
    assert _ids(MeasureFilter(in_force_on=date(2024, 1, 30))) == EVERY


def test_words_are_found_in_either_script_and_any_case() -> None:
    simplified = _ids(MeasureFilter(text="专精特新“小巨人”"))
    assert simplified and simplified == _ids(MeasureFilter(text="專精特新“小巨人”"))
    assert "loan-interest-subsidy" in _ids(MeasureFilter(text="Loan Interest"))
    assert _ids(MeasureFilter(text="没有这样的词语")) == []


def test_a_county_leaves_out_the_measures_its_firms_cannot_match(policies: Path) -> None:

    def one_county(measure: dict[str, object]) -> None:
        measure["eligibility"] = {"all": [{"field": "county", "is": "440703"}]}
        measure["cases"] = [
            {
                "name": "in",
                "why": "A firm of Pengjiang is served.",
                "profile": {"county": "440703"},
                "expect": "matched",
            },
            {
                "name": "out",
                "why": "A firm of Jianghai is not served.",
                "profile": {"county": "440704"},
                "expect": "not_matched",
            },
        ]

    edit_yaml(policies / "measures" / "precise-policy-push.yaml", one_county)
    catalogue = load_catalogue(policies)
    ids = [m.measure_id for m in chosen_measures(catalogue, MeasureFilter(county="440703"))]
    assert "precise-policy-push" in ids
    others = [m.measure_id for m in chosen_measures(catalogue, MeasureFilter(county="440704"))]
    assert "precise-policy-push" not in others and len(others) == len(ids) - 1


def test_each_unknown_value_is_a_problem_naming_its_parameter() -> None:
    _, problems = read_filter(
        REAL,
        {
            "kind": "nonsense",
            "clause": "九(九)",
            "department": "nobody",
            "county": "110000",
            "in_force_on": "2025-02-30",
            "q": "词" * (MAX_TEXT + 1),
        },
    )
    assert sorted(problems) == ["clause", "county", "department", "in_force_on", "kind", "q"]
    assert translate(problems["in_force_on"], "zh-Hans") == "不是日期（YYYY-MM-DD）"
    assert translate(problems["q"], "zh-Hans") == f"最多 {MAX_TEXT} 个字符"
    for day in ("0", "2025-6-1", "20250601", "2025-06-01T00:00"):
        assert "in_force_on" in read_filter(REAL, {"in_force_on": day})[1]


def test_empty_and_padded_values_read_as_no_filter_and_the_value() -> None:
    chosen, problems = read_filter(REAL, {"kind": " ", "q": "  贷款 ", "in_force_on": ""})
    assert problems == {} and chosen == MeasureFilter(text="贷款")
