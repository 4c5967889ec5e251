"""The eligibility language: operators, three-valued groups, cheapest change."""

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from service.policy.rules import (
    COMPARE,
    INFINITE,
    AllOf,
    Comparison,
    Condition,
    Operator,
    Outcome,
    cheapest_change,
    comparisons_of,
    compile_tree,
    open_questions,
    truth,
)

parse = TypeAdapter(Condition).validate_python


def outcome(*values: bool | None) -> Outcome:
    """An Outcome from each comparison's result in order (None: unknown)."""
    holds = sum(1 << i for i, v in enumerate(values) if v is True)
    fails = sum(1 << i for i, v in enumerate(values) if v is False)
    return Outcome(holds, fails)


@pytest.mark.parametrize(
    ("operator", "actual", "value", "holds"),
    [
        (Operator.IS, True, True, True),
        (Operator.IS, False, True, False),
        (Operator.IS_NOT, "listed", "listed", False),
        (Operator.IS_NOT, "planning", "listed", True),
        (Operator.ONE_OF, "provincial", frozenset({"provincial", "little_giant"}), True),
        (Operator.ONE_OF, "municipal", frozenset({"provincial", "little_giant"}), False),
        (Operator.NONE_OF, "none", frozenset({"provincial", "national"}), True),
        (Operator.NONE_OF, "national", frozenset({"provincial", "national"}), False),
        (Operator.AT_LEAST, 2, 2, True),
        (Operator.AT_LEAST, 1, 2, False),
        (Operator.AT_MOST, 2, 2, True),
        (Operator.AT_MOST, 3, 2, False),
        (Operator.MORE_THAN, 1, 0, True),
        (Operator.MORE_THAN, 0, 0, False),
        (Operator.LESS_THAN, 19_999_999, 20_000_000, True),
        (Operator.LESS_THAN, 20_000_000, 20_000_000, False),
        (Operator.STARTS_WITH, "C3857", ("B", "C", "D"), True),
        (Operator.STARTS_WITH, "F5174", ("B", "C", "D"), False),
    ],
)
def test_each_operator_compares_as_named(
    operator: Operator, actual: object, value: object, holds: bool
) -> None:
    assert COMPARE[operator](actual, value) is holds


def test_every_operator_has_one_implementation() -> None:
    assert set(COMPARE) == set(Operator)


def test_a_test_is_written_with_its_operator_as_key() -> None:
    note = {"zh-Hans": "为何", "zh-Hant": "為何", "en": "why"}
    test = parse({"field": "tier", "one_of": ["provincial", "little_giant"], "note": note})
    assert isinstance(test, Comparison)
    assert test.note is not None and (test.note.get("en"), test.note.get("zh-Hant")) == (
        "why",
        "為何",
    )
    assert (test.field, test.operator, test.value) == (
        "tier",
        Operator.ONE_OF,
        ("provincial", "little_giant"),
    )


@pytest.mark.parametrize(
    "written",
    [
        {"field": "tier"},  # no operator
        {"field": "tier", "is": "x", "one_of": ["y"]},  # two operators
        {"field": "tier", "equals": "x"},  # unknown operator
        {"field": "employees", "at_least": "many"},  # a number operator without a number
        {"field": "tier", "one_of": []},  # an empty list
        {"all": []},  # an empty group
    ],
)
def test_malformed_conditions_are_refused(written: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        parse(written)


def _compiled(written: dict[str, Any]) -> tuple[object, list[Comparison]]:
    condition = parse(written)
    table: list[Comparison] = []

    def index(test: Comparison) -> int:
        if test not in table:
            table.append(test)
        return table.index(test)

    return compile_tree(condition, index), table


TREE = {
    "all": [
        {"field": "a", "is": True},
        {"any": [{"field": "b", "is": True}, {"field": "c", "is": True}]},
        {"not": {"field": "d", "is": True}},
    ]
}


@pytest.mark.parametrize(
    ("a", "b", "c", "d", "expected"),
    [
        (True, True, False, False, True),
        (True, False, False, False, False),
        (False, None, None, None, False),  # a known failure decides an `all`
        (True, None, True, False, True),  # a known success decides an `any`
        (True, None, False, False, None),
        (True, True, None, None, None),
        (True, True, True, True, False),
    ],
)
def test_groups_are_three_valued(
    a: bool | None, b: bool | None, c: bool | None, d: bool | None, expected: bool | None
) -> None:
    tree, _ = _compiled(TREE)
    assert truth(tree, outcome(a, b, c, d)) is expected  # type: ignore[arg-type]


def test_cheapest_change_counts_every_failing_member_of_all() -> None:
    tree, _ = _compiled(TREE)
    cost, tests = cheapest_change(tree, outcome(False, False, False, True), 0)  # type: ignore[arg-type]
    # a must hold, one of b/c must hold, d must stop holding
    assert cost == 3
    assert tests[0] == 0 and tests[-1] == 3 and len(tests) == 3


def test_cheapest_change_picks_the_cheaper_branch_of_any() -> None:
    tree, _ = _compiled(
        {
            "any": [
                {"all": [{"field": "a", "is": True}, {"field": "b", "is": True}]},
                {"field": "c", "is": True},
            ]
        }
    )
    assert cheapest_change(tree, outcome(False, False, False), 0) == (1, (2,))  # type: ignore[arg-type]


def test_fixed_fields_cannot_be_changed() -> None:
    tree, _ = _compiled({"all": [{"field": "county", "is": "440781"}, {"field": "b", "is": True}]})
    cost, _ = cheapest_change(tree, outcome(False, True), 0b1)  # type: ignore[arg-type]
    assert cost >= INFINITE


def test_tests_of_lists_every_test_in_reading_order() -> None:
    condition = parse(TREE)
    assert isinstance(condition, AllOf)
    assert [t.field for t in comparisons_of(condition)] == ["a", "b", "c", "d"]


def test_open_questions_are_the_unknowns_that_still_matter() -> None:
    tree, _ = _compiled(TREE)
    # `any` is already decided by b, so only d is still open
    assert open_questions(tree, outcome(True, True, None, None)) == (3,)  # type: ignore[arg-type]
    assert open_questions(tree, outcome(False, None, None, None)) == ()  # type: ignore[arg-type]
