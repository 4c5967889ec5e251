"""Matching: tiers in force, undetermined, near misses, days out of force, fast path = tree."""

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from service.matching.match import Decision, MatchResult, TierNote, facts_on, match, outcome_of
from service.policy.catalogue import Catalogue, load_catalogue
from service.policy.profile import Profile
from service.policy.rules import cheapest_change, truth
from tests.factories import DAY, real_catalogue
from tests.policy_copies import POLICIES

REAL = real_catalogue()


def _run(catalogue: Catalogue, profile: dict[str, Any], day: date = DAY) -> MatchResult:
    facts = Profile.model_validate({"county": "440703", **profile}).facts()
    return match(catalogue=catalogue, facts=facts, as_of=day)


def _find(result: MatchResult, measure_id: str) -> Decision | None:
    everything = (*result.matched, *result.near_misses, *result.undetermined)
    return next((d for d in everything if d.measure.measure_id == measure_id), None)


LOAN = "loan-interest-subsidy"


def test_a_valid_provincial_firm_with_a_loan_matches_with_every_reason() -> None:
    decision = _find(
        _run(REAL, {"tier": "provincial", "tier_valid_until": "2026-12-31", "has_bank_loan": True}),
        LOAN,
    )
    assert decision is not None and decision.status == "matched"
    assert [(r.comparison.field, r.passed) for r in decision.reasons] == [
        ("tier", True),
        ("has_bank_loan", True),
    ]


def test_every_failing_condition_is_reported_not_only_the_first() -> None:
    decision = _find(
        _run(
            REAL, {"tier": "innovative", "tier_valid_until": "2026-12-31", "has_bank_loan": False}
        ),
        LOAN,
    )
    assert decision is not None and decision.status == "near_miss"
    assert {r.comparison.field for r in decision.unmet} == {"tier", "has_bank_loan"}
    assert all(r.passed is False for r in decision.reasons)


def test_an_expired_tier_counts_as_none_and_says_so() -> None:
    decision = _find(
        _run(
            REAL, {"tier": "little_giant", "tier_valid_until": "2025-05-31", "has_bank_loan": True}
        ),
        LOAN,
    )
    assert decision is not None and decision.status == "near_miss"
    tier = decision.unmet[0]
    assert tier.actual == "none" and tier.note == TierNote("little_giant", date(2025, 5, 31))


def test_a_tier_valid_through_the_day_still_counts() -> None:
    decision = _find(
        _run(REAL, {"tier": "provincial", "tier_valid_until": "2025-06-01", "has_bank_loan": True}),
        LOAN,
    )
    assert decision is not None and decision.status == "matched"


def test_a_tier_without_its_validity_is_undetermined_where_validity_decides() -> None:
    decision = _find(_run(REAL, {"tier": "provincial", "has_bank_loan": True}), LOAN)
    assert decision is not None and decision.status == "undetermined"
    assert decision.missing_fields == ("tier_valid_until",)
    assert decision.reasons[0].note == TierNote("provincial", None)


def test_a_tier_without_its_validity_decides_where_either_reading_agrees() -> None:
    # innovative falls short of the loan subsidy whether or not it is still valid
    decision = _find(_run(REAL, {"tier": "innovative", "has_bank_loan": True}), LOAN)
    assert decision is not None and decision.status == "near_miss"
    assert [r.comparison.field for r in decision.unmet] == ["tier"]


def test_a_near_miss_keeps_apart_what_fails_and_what_is_not_given() -> None:
    # innovative fails the tier; the loan is not given: one to change, one to tell
    decision = _find(_run(REAL, {"tier": "innovative", "tier_valid_until": None}), LOAN)
    assert decision is not None and decision.status == "near_miss"
    assert [r.comparison.field for r in decision.unmet] == ["tier"]
    assert decision.missing_fields == ("has_bank_loan",)


def test_a_missing_field_makes_undetermined_only_when_it_decides() -> None:
    unknown = _find(_run(REAL, {"tier": "provincial", "tier_valid_until": None}), LOAN)
    assert unknown is not None and unknown.missing_fields == ("has_bank_loan",)
    decided = _run(REAL, {"tier": "none", "tier_valid_until": None})
    assert _find(decided, LOAN) is None or _find(decided, LOAN).status != "undetermined"  # type: ignore[union-attr]


def test_county_only_profile_leaves_everything_open() -> None:
    result = _run(REAL, {})
    assert not result.matched or all(all(r.passed for r in d.reasons) for d in result.matched)
    assert all(d.missing_fields for d in result.undetermined)


def test_no_measure_matches_outside_its_period() -> None:
    profile = {"tier": "provincial", "tier_valid_until": None, "has_bank_loan": True}
    assert _find(_run(REAL, profile, date(2024, 1, 29)), LOAN) is None
    assert _find(_run(REAL, profile, date(2024, 1, 30)), LOAN) is not None
    assert _find(_run(REAL, profile, date(2026, 12, 31)), LOAN) is not None
    late = _run(REAL, profile, date(2027, 1, 1))
    assert (late.matched, late.near_misses, late.undetermined) == ((), (), ())


def test_facts_on_leaves_unrecognised_firms_alone() -> None:
    facts = {"tier": "none", "tier_valid_until": None}
    assert facts_on(facts, DAY) == (facts, None)


# --- a small catalogue of our own, for trees with `any` and `not` ---------------------------

TREE_MEASURE = {
    "measure_id": "tree-measure",
    "clause": "二(二)1",
    "kind": "rd_platform",
    "finance": False,
    "title": {"zh-Hans": "测试", "zh-Hant": "測試", "en": "test"},
    "summary": {"zh-Hans": "测试", "zh-Hant": "測試", "en": "test"},
    "source": {
        "quote": ["引導科研院所、高校與專精特新中小企業開展深入的科研合作與技術創新成果轉化。"]
    },
    "valid_from": "2024-01-30",
    "valid_until": "2026-12-31",
    "serves": {"zh-Hans": "测试", "zh-Hant": "測試", "en": "test"},
    "eligibility": {
        "all": [
            {"field": "tier", "one_of": ["municipal", "provincial", "little_giant"]},
            {
                "any": [
                    {"field": "invention_patents", "at_least": 2},
                    {"field": "rd_institution", "one_of": ["provincial", "national"]},
                ]
            },
            {"not": {"field": "listing_stage", "is": "listed"}},
        ]
    },
    "cases": [
        {
            "name": "yes",
            "why": "a firm that meets every part",
            "expect": "matched",
            "profile": {
                "tier": "municipal",
                "tier_valid_until": None,
                "invention_patents": 3,
                "listing_stage": "none",
            },
        },
        {
            "name": "no",
            "why": "a listed firm without patents",
            "expect": "near_miss",
            "profile": {
                "tier": "municipal",
                "tier_valid_until": None,
                "invention_patents": 0,
                "rd_institution": "none",
                "listing_stage": "listed",
            },
        },
    ],
}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    target = tmp_path_factory.mktemp("small") / "policies"
    shutil.copytree(POLICIES, target, ignore=shutil.ignore_patterns("measures"))
    (target / "indicators.yaml").write_text("indicators: []\n", encoding="utf-8")  # no measures
    (target / "measures").mkdir()
    shutil.copy(POLICIES / "measures" / f"{LOAN}.yaml", target / "measures")
    (target / "measures" / "tree-measure.yaml").write_text(
        yaml.safe_dump(TREE_MEASURE, allow_unicode=True), encoding="utf-8"
    )
    return load_catalogue(Path(target))


def test_any_and_not_are_decided_three_valued(small: Catalogue) -> None:
    one_unknown = _run(
        small, {"tier": "municipal", "tier_valid_until": None, "invention_patents": 3}
    )
    decision = _find(one_unknown, "tree-measure")
    assert decision is not None and decision.missing_fields == ("listing_stage",)
    answered = _run(
        small,
        {
            "tier": "municipal",
            "tier_valid_until": None,
            "rd_institution": "national",
            "listing_stage": "none",
        },
    )
    assert _find(answered, "tree-measure").status == "matched"  # type: ignore[union-attr]


def test_near_miss_of_a_tree_names_the_cheapest_change(small: Catalogue) -> None:
    result = _run(
        small,
        {
            "tier": "municipal",
            "tier_valid_until": None,
            "invention_patents": 0,
            "rd_institution": "none",
            "listing_stage": "listed",
        },
    )
    decision = _find(result, "tree-measure")
    assert decision is not None and decision.status == "near_miss"
    assert len(decision.unmet) == 2
    assert decision.unmet[-1].comparison.field == "listing_stage"


# --- the fast path for conjunctions agrees with folding the tree ------------------------------

PROFILES = st.fixed_dictionaries(
    {},
    optional={
        "tier": st.sampled_from(["none", "innovative", "municipal", "provincial", "little_giant"]),
        "tier_valid_until": st.one_of(st.none(), st.dates(date(2023, 1, 1), date(2027, 12, 31))),
        "key_little_giant": st.booleans(),
        "industry_code": st.sampled_from(["C3857", "B0610", "D4411", "F5174", "I6513"]),
        "cluster": st.one_of(
            st.none(), st.sampled_from(["smart_home_appliances", "laser_additive"])
        ),
        "sub_industry": st.one_of(
            st.none(), st.sampled_from(["paper_products", "motorcycle_parts"])
        ),
        "employees": st.integers(0, 2000),
        "revenue_cny": st.integers(0, 10**9),
        "invention_patents": st.integers(0, 5),
        "trademarks": st.integers(0, 5),
        "digital_level": st.integers(0, 4),
        "rd_institution": st.sampled_from(["none", "municipal", "provincial", "national"]),
        "standards_role": st.sampled_from(["none", "participant", "lead"]),
        "listing_stage": st.sampled_from(["none", "planning", "tutoring", "filed", "listed"]),
        "quality_award_level": st.sampled_from(["none", "municipal", "provincial", "national"]),
        "migrant_workers": st.integers(0, 500),
        **{
            name: st.booleans()
            for name in (
                "university_partner",
                "fills_tech_gap",
                "quality_award",
                "equity_board_listed",
                "has_bank_loan",
                "zyb_digital_loan",
                "guaranteed_loan",
                "tech_upgrade_project",
                "needs_land",
                "imports_exports",
                "needs_talent",
            )
        },
    },
).map(
    # the award and its level must agree (else the profile is refused)
    lambda p: (
        {**p, "quality_award": p["quality_award_level"] != "none"}
        if "quality_award" in p and "quality_award_level" in p
        else p
    )
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(profile=PROFILES, day=st.dates(date(2024, 1, 1), date(2027, 3, 1)))
def test_fast_path_agrees_with_folding_the_tree(profile: dict[str, Any], day: date) -> None:
    result = _run(
        REAL, {k: v.isoformat() if isinstance(v, date) else v for k, v in profile.items()}, day
    )
    _, _, outcome = outcome_of(
        REAL, Profile.model_validate({"county": "440703", **profile}).facts(), day
    )
    for measure in REAL.measures:
        decision = _find(result, measure.measure_id)
        verdict = truth(measure.tree, outcome) if measure.in_force(day) else False
        cost, chosen = cheapest_change(measure.tree, outcome, REAL.fixed_mask)
        if not measure.in_force(day):
            assert decision is None
        elif verdict is True:
            assert decision is not None and decision.status == "matched"
        elif verdict is None:
            assert decision is not None and decision.status == "undetermined"
        elif cost <= REAL.near_miss.max_unmet:
            assert decision is not None and decision.status == "near_miss"
            unmet = {r.comparison.index for r in decision.unmet}
            assert unmet == {i for i in chosen if outcome.of(i) is not None}
        else:
            assert decision is None
