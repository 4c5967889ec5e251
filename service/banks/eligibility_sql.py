"""A measure's eligibility compiled into SQL over the enterprise table's typed columns.

A row satisfies `WHERE eligibility_filter(...)` exactly when match() says the measure is matched
(definitely true) for the stored profile on that day. SQL NULL is three-valued (Kleene) like our
evaluation, so each comparison compiles to an expression that is NULL where Python says unknown
(the field not given) and and/or/not fold the tree the same way; WHERE keeps only true.

What Python decides without comparing is decided here in Python, at compile time, never written
by hand: the answer for a field given as null (`cluster`, `sub_industry`, `tier_valid_until`:
the evaluator's expression on None, a wrong type counting as no) and for a tier read as `none`
(expired, or its validity not given: see facts_on() and outcome_of()).
"""

from datetime import date
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Date,
    Integer,
    Row,
    Select,
    String,
    and_,
    case,
    exists,
    false,
    func,
    not_,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.types import TypeDecorator

from service.core.tables import CONSENT, ENTERPRISE
from service.policy.catalogue import Catalogue, CompiledComparison, Measure
from service.policy.profile import NULLABLE_FIELDS
from service.policy.rules import ALL, ANY, NOT, Node, Operator, python_outcome

TIER = "tier"
NO_TIER = "none"  # what an expired tier counts as (facts_on)

# two values of each column type, to find what a comparison whose operand cannot be compared with
# the column's values gives for every value
_SAMPLES: dict[type, tuple[Any, Any]] = {
    str: ("", "Z9"),
    int: (0, 10**9),
    bool: (False, True),
    date: (date(2000, 1, 1), date(2100, 1, 1)),
}


def eligibility_filter(catalogue: Catalogue, measure: Measure, day: date) -> ColumnElement[bool]:
    """The measure's tree as a condition on `enterprise` rows: true exactly where it matches."""
    if not measure.in_force(day):
        return false()
    return _node(catalogue, measure.tree, day)


def _node(catalogue: Catalogue, node: Node, day: date) -> ColumnElement[bool]:
    if isinstance(node, int):
        return comparison_filter(catalogue.comparisons[node], day)
    kind, members = node
    if kind == NOT:
        return not_(_node(catalogue, members, day))
    parts = [_node(catalogue, member, day) for member in members]
    if kind == ALL:
        return and_(*parts)
    if kind == ANY:
        return or_(*parts)
    raise ValueError(f"not a compiled condition: {node!r}")


def comparison_filter(comparison: CompiledComparison, day: date) -> ColumnElement[bool]:
    """One comparison on a stored row: true, false, or NULL where Python says unknown."""
    column: Column[Any] = ENTERPRISE.c[comparison.field]
    compared = _present(column, comparison.operator, comparison.value)
    present = _constant(compared) if isinstance(compared, bool) else compared
    if comparison.field == TIER:
        return _tier(column, present, comparison, day)
    if comparison.field in NULLABLE_FIELDS:
        given = ENTERPRISE.c[f"{comparison.field}_given"]
        given_null = python_outcome(comparison.operator, None, comparison.value)
        return case(
            (column.is_not(None), present),
            (given.is_(True), _constant(given_null)),
            else_=null(),
        )
    if isinstance(compared, bool):  # the same for every value; NULL still means not given
        return case((column.is_not(None), present), else_=null())
    return present


def _tier(
    column: Column[Any], present: ColumnElement[bool], comparison: CompiledComparison, day: date
) -> ColumnElement[bool]:
    """The tier as facts_on() and outcome_of() read it on `day`.

    Not given: unknown. Expired (validity given and before `day`): read as `none`. Validity
    given as null or not yet past: as stored. Validity not given at all: read both as stored
    and as `none`, known only where both agree.
    """
    as_none = python_outcome(comparison.operator, NO_TIER, comparison.value)
    until = ENTERPRISE.c.tier_valid_until
    until_given = ENTERPRISE.c.tier_valid_until_given
    either_reading = (
        case((present, true()), else_=null()) if as_none else case((present, null()), else_=false())
    )
    read = case(
        (column.is_(None), null()),
        (and_(until.is_not(None), until < day), _constant(as_none)),
        (until_given.is_(True), present),
        else_=either_reading,
    )
    # where `none` fails the test, every reading that holds has the stored tier pass it: the
    # same three values with `present AND`, which the planner can estimate and use an index for
    return read if as_none else and_(present, read)


def _constant(value: bool) -> ColumnElement[bool]:
    return true() if value else false()


def _column_type(column: Column[Any]) -> type:
    kind = column.type
    if isinstance(kind, TypeDecorator):  # sqlmodel's AutoString
        kind = kind.impl_instance
    for sql_type, python_type in ((Boolean, bool), (Integer, int), (Date, date), (String, str)):
        if isinstance(kind, sql_type):
            return python_type
    raise ValueError(f"no SQL comparison for column {column.name} of type {kind}")


def _fits(operand: Any, wanted: type) -> bool:
    if wanted is int:
        return isinstance(operand, int | float) and not isinstance(operand, bool)
    if wanted is date:
        return type(operand) is date
    return isinstance(operand, wanted)


def _present(column: Column[Any], operator: Operator, value: Any) -> ColumnElement[bool] | bool:
    """The comparison on a non-null column value; a constant where Python compares no value."""
    wanted = _column_type(column)
    listed = tuple(value) if isinstance(value, frozenset | tuple) else (value,)
    # the value here is never None: None in a list never equals it (and SQL's `IN (.., NULL)`
    # would make a no unknown), `is: null` is a no and `is_not: null` a yes for every value
    operands = tuple(o for o in listed if o is not None)
    fitting = [_fits(o, wanted) for o in operands]
    if not any(fitting):  # e.g. a number against a date: a TypeError, so a no, for every value
        outcomes = {python_outcome(operator, sample, value) for sample in _SAMPLES[wanted]}
        if len(outcomes) == 1:
            return outcomes.pop()
    if not all(fitting):
        raise ValueError(f"cannot compile {column.name} {operator.value} {value!r} into SQL")
    ordered = sorted(operands, key=repr)  # stable SQL text for a frozenset
    compared: ColumnElement[bool]
    match operator:
        case Operator.IS:
            compared = column == operands[0]
        case Operator.IS_NOT:
            compared = column != operands[0]
        case Operator.ONE_OF:
            compared = column.in_(ordered)
        case Operator.NONE_OF:
            compared = column.not_in(ordered)
        case Operator.AT_LEAST:
            compared = column >= operands[0]
        case Operator.AT_MOST:
            compared = column <= operands[0]
        case Operator.MORE_THAN:
            compared = column > operands[0]
        case Operator.LESS_THAN:
            compared = column < operands[0]
        case Operator.STARTS_WITH:
            # substr, not LIKE: SQLite's LIKE ignores case, str.startswith does not
            compared = or_(*(func.substr(column, 1, len(p)) == p for p in operands))
        case _:
            raise ValueError(f"no SQL for operator {operator}")
    return compared


def eligible_query(
    catalogue: Catalogue,
    measure: Measure,
    day: date,
    *,
    bank_id: str | None,
    after: str | None,
    limit: int | None,
) -> Select[Any]:
    """The query of eligible_page(): keyset order on the primary key, consent inside (every
    firm when `limit` is None: what an export records)."""
    e = ENTERPRISE.c
    query = select(e.uscc, e.name, e.county, e.tier).where(
        e.deleted_at.is_(None), eligibility_filter(catalogue, measure, day)
    )
    if after is not None:
        query = query.where(e.uscc > after)
    if bank_id is not None:
        # EXISTS, driven by bank_consent's key (bank_id, uscc): the keyset bound is repeated
        # on it, or PostgreSQL walks the bank's consents from the first on every later page
        consented = exists().where(CONSENT.c.bank_id == bank_id, CONSENT.c.uscc == e.uscc)
        if after is not None:
            consented = consented.where(CONSENT.c.uscc > after)
        query = query.where(consented)
    query = query.order_by(e.uscc)
    return query if limit is None else query.limit(limit)


def eligible_page(
    connection: Connection,
    catalogue: Catalogue,
    measure: Measure,
    day: date,
    *,
    bank_id: str | None,
    after: str | None,
    limit: int,
) -> list[Row[Any]]:
    """One page (uscc order, after `after`) of the stored firms eligible for a measure on `day`.

    Deleted firms are never returned; with `bank_id`, only the firms that consented to that bank.
    """
    query = eligible_query(catalogue, measure, day, bank_id=bank_id, after=after, limit=limit)
    rows: list[Row[Any]] = list(connection.execute(query))
    return rows
