"""The plan's targets against the stored firms: one GROUP BY county query over typed columns.

Each counted target's `where` and `among` (service/targets.py) compile to SQL with the bank
query's own compiler (eligibility_sql.comparison_filter), so a tier counts exactly on the days
match() would count it. For each target the query counts, per county, the firms that meet
`among AND where` and the firms of `among` whose `where` is unknown (a field not given), and,
once per distinct `among`, the firms it is a share of. Deleted firms never count; synthetic
(demo) firms only when asked. The registry is what the stored profiles say, not the official
recognition list.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, not_, or_, select

from service.catalogue import Catalogue, CompiledComparison
from service.eligibility_sql import comparison_filter
from service.registry import ENTERPRISE
from service.rules import AllOf, AnyOf, Comparison, Condition, NotOf, Operator
from service.targets import Target


def condition_filter(condition: Condition, day: date) -> ColumnElement[bool]:
    """A condition of the rule language on `enterprise` rows: true, false or NULL (unknown)."""
    if isinstance(condition, Comparison):
        value = condition.value
        if condition.operator in (Operator.ONE_OF, Operator.NONE_OF):
            value = frozenset(value)
        return comparison_filter(CompiledComparison(0, condition, condition.field, value), day)
    if isinstance(condition, NotOf):
        return not_(condition_filter(condition.not_, day))
    if isinstance(condition, AllOf):
        return and_(*(condition_filter(c, day) for c in condition.all))
    assert isinstance(condition, AnyOf)
    return or_(*(condition_filter(c, day) for c in condition.any))


@dataclass(frozen=True, slots=True)
class Tally:
    """One target's count in one county (or in all)."""

    firms: int  # the firms it is counted among: all stored firms, or its `among`
    count: int  # of those, the firms that meet it
    unknown: int  # of those, the firms whose profile does not say

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(
            self.firms + other.firms, self.count + other.count, self.unknown + other.unknown
        )


@dataclass(frozen=True, slots=True)
class Progress:
    """Every counted target's tally by county, and the firms stored in each county."""

    firms: dict[str, int]  # county -> firms counted
    tallies: dict[str, dict[str, Tally]]  # target id -> county -> tally

    def total(self, target_id: str) -> Tally:
        """A target's tally over every county."""
        return sum(self.tallies[target_id].values(), Tally(0, 0, 0))


def progress_query(
    targets: Sequence[Target], day: date, *, county: str | None, include_synthetic: bool
) -> tuple[Any, list[tuple[str, int, int, int | None]]]:
    """The query, and for each counted target the positions of its count, unknown and firms."""
    e = ENTERPRISE.c
    columns: list[Any] = [e.county, func.count()]
    among_at: dict[str, int] = {}
    layout = []
    for target in targets:
        counted = target.counted
        if counted is None:
            continue
        where = condition_filter(counted.where, day)
        population = None
        if counted.among is not None:
            population = condition_filter(counted.among, day)
            key = repr(counted.among)
            if key not in among_at:
                among_at[key] = len(columns)
                columns.append(func.count().filter(population))
        met = where if population is None else and_(population, where)
        unsure = where.is_(None) if population is None else and_(population, where.is_(None))
        layout.append(
            (
                target.id,
                len(columns),
                len(columns) + 1,
                None if population is None else among_at[repr(counted.among)],
            )
        )
        columns += [func.count().filter(met), func.count().filter(unsure)]
    query = select(*columns).where(e.deleted_at.is_(None))
    if not include_synthetic:
        query = query.where(e.synthetic.is_(False))
    if county is not None:
        query = query.where(e.county == county)
    return query.group_by(e.county).order_by(e.county), layout


def plan_progress(
    connection: Connection,
    catalogue: Catalogue,
    day: date,
    *,
    county: str | None,
    include_synthetic: bool,
) -> Progress:
    """Count the stored firms against every counted target of the plan, by county."""
    query, layout = progress_query(
        catalogue.targets, day, county=county, include_synthetic=include_synthetic
    )
    firms: dict[str, int] = {}
    tallies: dict[str, dict[str, Tally]] = {target_id: {} for target_id, *_ in layout}
    for row in connection.execute(query):
        place, stored = row[0], row[1]
        firms[place] = stored
        for target_id, count_at, unknown_at, firms_at in layout:
            base = stored if firms_at is None else row[firms_at]
            tallies[target_id][place] = Tally(base, row[count_at], row[unknown_at])
    return Progress(firms, tallies)
