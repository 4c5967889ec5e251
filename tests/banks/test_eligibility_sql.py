"""Eligibility in SQL: the same firms as match() for every measure, on SQLite and PostgreSQL."""

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete

from service.banks.eligibility_sql import eligibility_filter, eligible_page
from service.core.database import write_transaction
from service.core.tables import CONSENT, ENTERPRISE, VERSION
from service.matching.match import match, outcome_of
from service.policy.catalogue import CompiledComparison, Measure
from service.policy.evaluator import build_evaluator
from service.policy.examples import synthetic_uscc
from service.policy.profile import NULLABLE_FIELDS, Profile, field_specs
from service.policy.rules import (
    ALL,
    ANY,
    NOT,
    NUMBER_OPERATORS,
    Comparison,
    Node,
    Operator,
    Outcome,
    truth,
)
from service.registry.store import delete_enterprise
from tests.factories import DAY, real_catalogue, store_directly

REAL = real_catalogue()
LOAN = REAL.by_id["loan-interest-subsidy"]
BANKS = ("bank-a", "bank-b")


def uscc(n: int) -> str:
    """A valid synthetic credit code numbered `n`."""
    return synthetic_uscc(f"91440781{n:09d}")


def _clear(engine: Engine) -> None:
    with write_transaction(engine) as connection:
        for table in (CONSENT, VERSION, ENTERPRISE):
            connection.execute(delete(table))


def _sql_eligible(
    engine: Engine, measure: Measure, day: date, bank: str | None = None
) -> list[str]:
    with engine.connect() as connection:
        rows = eligible_page(connection, REAL, measure, day, bank_id=bank, after=None, limit=10_000)
    return [row.uscc for row in rows]


# --- random profiles -------------------------------------------------------------------------

SPECS = field_specs(REAL.vocabularies)
RANGES = {
    "digital_level": (0, 4),
    "profit_cny": (-(10**15), 10**15),
    "revenue_cny": (0, 10**15),
    "rd_expense_cny": (0, 10**15),
}


def _boundaries(field: str) -> list[int]:
    """Each numeric constant the catalogue compares the field with, and its neighbours."""
    low, high = RANGES.get(field, (0, 10**7))
    near = {low, high}
    for c in REAL.comparisons:
        if c.field == field and c.operator in NUMBER_OPERATORS:
            near |= {int(c.value) - 1, int(c.value), int(c.value) + 1}
    return sorted(v for v in near if low <= v <= high)


def _value(field: str, day: date) -> st.SearchStrategy[Any]:
    spec = SPECS[field]
    if spec.allowed is not None:
        return st.sampled_from(spec.allowed)
    if spec.type is bool:
        return st.booleans()
    if spec.type is int:
        low, high = RANGES.get(field, (0, 10**7))
        return st.sampled_from(_boundaries(field)) | st.integers(low, high)
    if spec.type is date:
        near = [day + timedelta(days=d) for d in (-1, 0, 1)]
        return st.sampled_from(near) | st.dates(date(2023, 1, 1), date(2027, 12, 31))
    if field == "industry_code":
        return st.sampled_from(["B06", "C3311", "D4411", "A01", "F5174", "C"]) | st.from_regex(
            r"[A-T]([0-9]{2}|[0-9]{3}|[0-9]{4})?", fullmatch=True
        )
    raise AssertionError(f"no strategy for {field}")


@st.composite
def profile_document(draw: st.DrawFn, n: int, day: date) -> dict[str, Any]:
    """A profile with some fields left out, some given as null, the rest drawn near the rules."""
    document: dict[str, Any] = {"uscc": uscc(n), "county": draw(_value("county", day))}
    for field in SPECS:
        if field == "county":
            continue
        choice = draw(st.sampled_from(("absent", "null", "value", "value", "value")))
        if choice == "null":
            document[field] = None  # a value where nullable, "not given" elsewhere
        elif choice == "value":
            document[field] = draw(_value(field, day))
    if draw(st.booleans()):
        document["bank_consents"] = draw(st.lists(st.sampled_from(BANKS), unique=True))
    held, level = document.get("quality_award"), document.get("quality_award_level")
    if held is not None and level is not None and held != (level != "none"):
        document["quality_award"] = level != "none"  # the two must agree (else a 422)
    return document


@st.composite
def scenario(draw: st.DrawFn) -> tuple[date, list[Profile]]:
    """A day and up to 20 profiles, their tiers' validity often near the day."""
    day = draw(st.dates(date(2023, 1, 1), date(2027, 12, 31)))
    count = draw(st.integers(1, 20))
    documents = [draw(profile_document(n, day)) for n in range(count)]
    return day, [Profile.model_validate(d) for d in documents]


def test_the_strategy_covers_null_and_absent_nullable_fields() -> None:
    """The field list the strategy draws from includes every nullable field."""
    assert set(SPECS) >= NULLABLE_FIELDS


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_sql_eligibility_equals_python_matching_for_every_measure(
    engine: Engine, example: tuple[date, list[Profile]]
) -> None:
    """For every measure of the catalogue, SQL returns exactly the firms match() matches."""
    day, profiles = example
    _clear(engine)
    store_directly(engine, profiles, day)
    matched: dict[str, set[str]] = {m.measure_id: set() for m in REAL.measures}
    for profile in profiles:
        assert profile.uscc is not None
        result = match(catalogue=REAL, facts=profile.facts(), as_of=day)
        for measure in result.matched_measures:
            matched[measure.measure_id].add(profile.uscc)
    for measure in REAL.measures:
        found = _sql_eligible(engine, measure, day)
        assert found == sorted(matched[measure.measure_id]), (measure.measure_id, day)


# --- every operator, null given, and trees with `not` and `any` --------------------------------
# The plan's own conditions are all-of-tests with no `not`, and compare null-given fields only
# with one_of: a null read as unknown instead of as a no would not change who matches. Trees
# drawn over tests of every operator (the constant for null a yes, tier tests whose `none`
# reading holds) check each comparison's three values, not only its truth.

EXTRA_TESTS: list[dict[str, Any]] = [
    {"field": "cluster", "is_not": "high_end_equipment"},
    {"field": "cluster", "none_of": ["high_end_equipment", "biomedicine_health"]},
    {"field": "cluster", "one_of": ["high_end_equipment", None]},
    {"field": "cluster", "is": None},
    {"field": "sub_industry", "none_of": [None]},
    {"field": "sub_industry", "is": "hardware_stainless"},
    {"field": "tier", "is_not": "none"},
    {"field": "tier", "none_of": ["innovative", "municipal"]},
    {"field": "tier", "is": "none"},
    {"field": "tier", "one_of": ["provincial", "little_giant"]},
    {"field": "tier_valid_until", "at_least": 5},
    {"field": "tier_valid_until", "is_not": date(2025, 6, 1)},
    {"field": "industry_code", "starts_with": ["C33", "F"]},
    {"field": "industry_code", "less_than": 5},
    {"field": "employees", "at_most": 0},
    {"field": "employees", "more_than": 999},
    {"field": "revenue_cny", "less_than": 20_000_000.5},
    {"field": "profit_cny", "less_than": 0},
    {"field": "quality_award", "is_not": True},
    {"field": "quality_award_level", "none_of": ["national", "provincial"]},
    {"field": "key_little_giant", "is": False},
    {"field": "listing_stage", "none_of": ["listed"]},
    {"field": "standards_role", "is": "lead"},
    {"field": "county", "one_of": ["440703", "440781"]},
    {"field": "digital_level", "at_least": 3},
]


def _compiled(i: int, test: dict[str, Any]) -> CompiledComparison:
    comparison = Comparison.model_validate(test)
    value = comparison.value
    if comparison.operator in (Operator.ONE_OF, Operator.NONE_OF):
        value = frozenset(value)
    return CompiledComparison(i, comparison, comparison.field, value)


_EXTRA = tuple(_compiled(i, t) for i, t in enumerate(EXTRA_TESTS))
_evaluate, _source = build_evaluator(_EXTRA)
EXTRA = replace(REAL, comparisons=_EXTRA, evaluate=_evaluate, evaluator_source=_source)


def _trees() -> st.SearchStrategy[Node]:
    leaves = st.integers(0, len(EXTRA_TESTS) - 1)

    def grow(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
        members = st.lists(children, min_size=1, max_size=3).map(tuple)
        return st.tuples(st.sampled_from((ALL, ANY)), members) | st.tuples(st.just(NOT), children)

    return st.recursive(leaves, grow, max_leaves=6)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario(), st.lists(_trees(), min_size=1, max_size=8))
def test_sql_equals_python_for_trees_over_every_operator(
    engine: Engine, example: tuple[date, list[Profile]], trees: list[Node]
) -> None:
    """Each comparison true, false or unknown as in Python; trees folded the same way."""
    day, profiles = example
    _clear(engine)
    store_directly(engine, profiles, day)
    outcomes: dict[str, Outcome] = {}
    for profile in profiles:
        assert profile.uscc is not None
        outcomes[profile.uscc] = outcome_of(EXTRA, profile.facts(), day)[2]
    for tree in [*range(len(EXTRA_TESTS)), *trees, *((NOT, t) for t in trees)]:
        measure = replace(LOAN, tree=tree)
        expected = sorted(
            u for u, outcome in outcomes.items() if measure.in_force(day) and truth(tree, outcome)
        )
        with engine.connect() as connection:
            rows = eligible_page(
                connection, EXTRA, measure, day, bank_id=None, after=None, limit=10_000
            )
        assert [row.uscc for row in rows] == expected, (tree, day)


# --- the bank query ----------------------------------------------------------------------------


def _eligible(n: int, banks: list[str] | None = None) -> Profile:
    """A firm that qualifies for the loan interest subsidy on DAY."""
    return Profile.model_validate(
        {
            "uscc": uscc(n),
            "name": f"firm {n}",
            "county": "440703",
            "tier": "provincial",
            "tier_valid_until": "2026-12-31",
            "has_bank_loan": True,
            "bank_consents": banks or [],
        }
    )


def test_deleted_firms_are_never_returned(engine: Engine) -> None:
    """A deleted firm leaves the answer, with or without a bank."""
    _clear(engine)
    store_directly(engine, [_eligible(n, ["bank-a"]) for n in range(3)])
    with write_transaction(engine) as connection:
        delete_enterprise(connection, REAL, uscc(1), changed_by="test")
    assert _sql_eligible(engine, LOAN, DAY) == [uscc(0), uscc(2)]
    assert _sql_eligible(engine, LOAN, DAY, "bank-a") == [uscc(0), uscc(2)]


def test_a_bank_sees_only_the_firms_that_consented_to_it(engine: Engine) -> None:
    """The consent filter runs inside the query."""
    _clear(engine)
    consents: list[list[str]] = [[], ["bank-a"], ["bank-b"], ["bank-a", "bank-b"]]
    store_directly(engine, [_eligible(n, banks) for n, banks in enumerate(consents)])
    assert _sql_eligible(engine, LOAN, DAY) == [uscc(n) for n in range(4)]
    assert _sql_eligible(engine, LOAN, DAY, "bank-a") == [uscc(1), uscc(3)]
    assert _sql_eligible(engine, LOAN, DAY, "bank-b") == [uscc(2), uscc(3)]
    assert _sql_eligible(engine, LOAN, DAY, "bank-c") == []


def test_keyset_pages_concatenate_to_the_whole_answer(engine: Engine) -> None:
    """Pages after the last credit code seen: every firm once, in order."""
    _clear(engine)
    not_eligible = Profile.model_validate({"uscc": uscc(99), "county": "440703", "tier": "none"})
    store_directly(engine, [*(_eligible(n, ["bank-a"]) for n in range(23)), not_eligible])
    whole = _sql_eligible(engine, LOAN, DAY, "bank-a")
    assert whole == sorted(uscc(n) for n in range(23))
    pages: list[str] = []
    after: str | None = None
    with engine.connect() as connection:
        while True:
            rows = eligible_page(
                connection, REAL, LOAN, DAY, bank_id="bank-a", after=after, limit=5
            )
            pages += [row.uscc for row in rows]
            if len(rows) < 5:
                break
            after = rows[-1].uscc
    assert pages == whole
    assert len(set(pages)) == len(pages)


def test_a_page_carries_name_county_and_tier(engine: Engine) -> None:
    """The columns the bank answer is made of."""
    _clear(engine)
    store_directly(engine, [_eligible(7)])
    with engine.connect() as connection:
        (row,) = eligible_page(connection, REAL, LOAN, DAY, bank_id=None, after=None, limit=10)
    assert tuple(row) == (uscc(7), "firm 7", "440703", "provincial")


def test_a_measure_out_of_force_matches_no_firm(engine: Engine) -> None:
    """Before the plan's measures apply, nobody is eligible."""
    _clear(engine)
    store_directly(engine, [_eligible(0)])
    day = LOAN.spec.valid_from - timedelta(days=1)
    assert str(eligibility_filter(REAL, LOAN, day)) == "false"
    assert _sql_eligible(engine, LOAN, day) == []
