"""The plan's targets over time: at the end of each quarter, the stored firms as their history had
them then, counted in SQL with the same statement as GET /v1/plan/progress.

The history is the enterprise version table: each stored change of a profile is a row with the
profile as given and when it was written. A quarter's firms are each firm's last version written
before the quarter ended (Jiangmen time), unless that version is its deletion. Their profiles'
fields become the columns progress_query() reads (a derived table standing in for `enterprise`),
and the targets are counted on the quarter's last day, so a recognition counts in the quarters it
was valid in. The quarter still running is today's count, plan_progress() itself.

Every past quarter is counted in one statement (quarters_query): each version is read once with
the time the next one replaced it (a window function), its profile's fields extracted once, and
joined to the quarters' ends it was current at; history_query() is the same for one day, kept as
the plainer statement the tests check it against.

A past quarter cannot change (versions are written at the moment of the change), so its tally is
remembered per database, catalogue and choice of firms; today's is remembered until a firm is
stored or deleted (a new version) or the day changes. The registry is what the stored profiles
say, not the official recognition list.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from threading import Lock
from typing import Any

from sqlalchemy import (
    BindParameter,
    Boolean,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    String,
    and_,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.sql import Subquery
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.sql.visitors import ExternallyTraversible, replacement_traverse

from service.core.clock import CHINA_STANDARD_TIME
from service.core.tables import ENTERPRISE, PROGRESS_COLUMNS, VERSION
from service.policy.catalogue import Catalogue
from service.registry.progress import Progress, fold_progress, plan_progress, progress_query

MAX_QUARTERS = 16  # the plan runs 2024-2026: twelve quarters, with room
_STRING = ("county", "tier", "listing_stage", "rd_institution")
_INTEGER = ("invention_patents", "trademarks", "digital_level")
_BOOLEAN = ("university_partner", "fills_tech_gap")
_GIVEN = ("tier_valid_until",)  # the fields whose `_given` column the targets read


@dataclass(frozen=True, slots=True)
class Quarter:
    """One quarter of the plan: its label (2025Q2), its last day, and whether it is running."""

    label: str
    last_day: date
    running: bool


@dataclass(frozen=True, slots=True)
class PeriodProgress:
    """The targets' tallies at the end of one quarter (or today, for the running one)."""

    quarter: Quarter
    day: date  # the day counted on: the quarter's last day, or today
    progress: Progress


def quarters(start: date, today: date) -> list[Quarter]:
    """The quarters from the one holding `start` to the one holding `today` (the latest 16)."""
    found = []
    year, q = start.year, (start.month - 1) // 3 + 1
    while (year, q) <= (today.year, (today.month - 1) // 3 + 1):
        end_month = 3 * q
        after = date(year + end_month // 12, end_month % 12 + 1, 1)
        last = after - timedelta(days=1)
        found.append(Quarter(f"{year}Q{q}", last, running=last >= today))
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    return found[-MAX_QUARTERS:]


def plan_start(catalogue: Catalogue) -> date:
    """The plan's first day as its targets give it: the earliest baseline date (else 2024-01-01)."""
    days = [t.baseline_on for t in catalogue.targets if t.baseline_on is not None]
    return min(days, default=date(2024, 1, 1))


def _moment(day: date) -> datetime:
    """Midnight in Jiangmen after `day`, in UTC: versions written before it count for `day`."""
    after = datetime.combine(day + timedelta(days=1), time(), tzinfo=CHINA_STANDARD_TIME)
    return after.astimezone(UTC)


def _profile_columns(dialect: str) -> list[ColumnElement[Any]]:
    """The columns progress_query() reads, taken from the version's profile as given."""
    profile = VERSION.c.profile
    columns: list[ColumnElement[Any]] = [profile[name].as_string().label(name) for name in _STRING]
    columns += [profile[name].as_integer().label(name) for name in _INTEGER]
    columns += [profile[name].as_boolean().label(name) for name in _BOOLEAN]
    until = profile["tier_valid_until"].as_string()
    # SQLite keeps dates as ISO text and compares them so; PostgreSQL casts to a date
    typed = type_coerce(until, Date) if dialect == "sqlite" else cast(until, Date)
    columns.append(typed.label("tier_valid_until"))
    for name in _GIVEN:  # given: the key is present, even as null
        if dialect == "sqlite":
            present = func.json_type(profile, f"$.{name}").is_not(None)
        else:
            present = profile[name].is_not(None)  # `->` is SQL NULL only for an absent key
        columns.append(type_coerce(present, Boolean).label(f"{name}_given"))
    columns.append(ENTERPRISE.c.synthetic.label("synthetic"))
    columns.append(type_coerce(null(), String).label("deleted_at"))
    return columns


def state_on(moment: datetime, dialect: str) -> Subquery:
    """Every firm as its last version before `moment` had it (deleted ones left out)."""
    last = (
        select(VERSION.c.uscc, func.max(VERSION.c.version).label("version"))
        .where(VERSION.c.changed_at < moment)
        .group_by(VERSION.c.uscc)
        .subquery("last_version")
    )
    joined = VERSION.join(
        last, and_(VERSION.c.uscc == last.c.uscc, VERSION.c.version == last.c.version)
    ).join(ENTERPRISE, ENTERPRISE.c.uscc == VERSION.c.uscc)
    return (
        select(*_profile_columns(dialect))
        .select_from(joined)
        .where(VERSION.c.action != "deleted")
        .subquery("firm_state")
    )


def history_query(catalogue: Catalogue, day: date, *, include_synthetic: bool, dialect: str) -> Any:
    """progress_query() on the firms as they stood at the end of `day`, not as they stand now."""
    query, laid = progress_query(
        catalogue.targets, day, county=None, include_synthetic=include_synthetic, ranges=False
    )
    state = state_on(_moment(day), dialect)
    read = {"county", "tier", "deleted_at", *PROGRESS_COLUMNS}

    def replace(element: ExternallyTraversible, **kw: Any) -> ExternallyTraversible | None:
        if isinstance(element, ColumnClause) and getattr(element, "table", None) is ENTERPRISE:
            assert element.name in read, element.name
            return state.c[element.name]
        return None

    traversed: ExternallyTraversible = query
    return replacement_traverse(traversed, {}, replace), laid


_SOME_DAY = date(1900, 1, 1)  # stands for each quarter's last day in the statement, then replaced


def _spans(dialect: str) -> Subquery:
    """Every version as columns, with when it was written and when the next one replaced it."""
    replaced = func.lead(VERSION.c.changed_at).over(
        partition_by=VERSION.c.uscc, order_by=VERSION.c.version
    )
    return (
        select(
            *_profile_columns(dialect),
            VERSION.c.action.label("action"),
            VERSION.c.changed_at.label("since"),
            replaced.label("replaced"),
        )
        .select_from(VERSION.join(ENTERPRISE, ENTERPRISE.c.uscc == VERSION.c.uscc))
        .subquery("version_span")
    )


def quarters_query(
    catalogue: Catalogue, days: list[date], *, include_synthetic: bool, dialect: str
) -> Any:
    """progress_query() at the end of each of `days` in one statement, each version's profile
    read once: its rows are progress_query()'s with the day last."""
    query, laid = progress_query(
        catalogue.targets, _SOME_DAY, county=None, include_synthetic=include_synthetic, ranges=False
    )
    ends = union_all(
        *(
            select(literal(day, Date).label("day"), literal(_moment(day), DateTime).label("moment"))
            for day in days
        )
    ).subquery("quarter_end")
    spans = _spans(dialect)
    read = {"county", "tier", "deleted_at", *PROGRESS_COLUMNS}

    def replace(element: ExternallyTraversible, **kw: Any) -> ExternallyTraversible | None:
        if isinstance(element, ColumnClause) and getattr(element, "table", None) is ENTERPRISE:
            assert element.name in read, element.name
            return spans.c[element.name]
        if isinstance(element, BindParameter) and element.value == _SOME_DAY:
            return ends.c.day
        return None

    traversed: ExternallyTraversible = query
    each_day: Any = replacement_traverse(traversed, {}, replace)
    current = and_(
        spans.c.since < ends.c.moment,
        or_(spans.c.replaced.is_(None), spans.c.replaced >= ends.c.moment),
        spans.c.action != "deleted",
    )
    return each_day.add_columns(ends.c.day).where(current).group_by(ends.c.day), laid


def _day_of(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def past_quarters(
    connection: Connection, catalogue: Catalogue, days: list[date], *, include_synthetic: bool
) -> dict[date, Progress]:
    """The counted targets at the end of each of `days`, from the history, in one statement."""
    query, laid = quarters_query(
        catalogue, days, include_synthetic=include_synthetic, dialect=connection.dialect.name
    )
    rows: dict[date, list[Any]] = {day: [] for day in days}
    for row in connection.execute(query):
        rows[_day_of(row[-1])].append(row[:-1])
    return {day: fold_progress(found, laid) for day, found in rows.items()}


def registry_mark(connection: Connection) -> tuple[Any, ...]:
    """What changes whenever a stored firm does: every store and deletion writes a version.

    SQLite: the newest version row's rowid (one step down the table's b-tree); PostgreSQL: how
    many versions there are and the latest time one was written.
    """
    if connection.dialect.name == "sqlite":
        return tuple(
            connection.execute(select(func.max(literal_column("rowid"))).select_from(VERSION)).one()
        )
    return tuple(connection.execute(select(func.count(), func.max(VERSION.c.changed_at))).one())


_REMEMBERED: dict[tuple[Any, ...], Progress] = {}
_REMEMBERED_MAX = 256
_REMEMBERED_LOCK = Lock()


def _remember(key: tuple[Any, ...], progress: Progress) -> None:
    with _REMEMBERED_LOCK:
        if len(_REMEMBERED) >= _REMEMBERED_MAX:
            _REMEMBERED.clear()
        _REMEMBERED[key] = progress


def progress_history(
    connection: Connection, catalogue: Catalogue, today: date, *, include_synthetic: bool
) -> list[PeriodProgress]:
    """The counted targets at the end of every quarter of the plan so far, today's last.

    Remembered per database, catalogue and choice of firms: a past quarter once counted (the
    versions of a closed quarter are never written again), today's count until the registry
    changes (registry_mark) or the day does.
    """
    base = (str(connection.engine.url), catalogue.version, include_synthetic)
    periods = quarters(plan_start(catalogue), today)
    with _REMEMBERED_LOCK:
        remembered = {q.last_day: _REMEMBERED.get((*base, q.last_day)) for q in periods}
    missing = [q.last_day for q in periods if not q.running and remembered[q.last_day] is None]
    if missing:
        counted = past_quarters(connection, catalogue, missing, include_synthetic=include_synthetic)
        for day, progress in counted.items():
            _remember((*base, day), progress)
            remembered[day] = progress
    found = []
    for quarter in periods:
        if not quarter.running:
            past = remembered[quarter.last_day]
            assert past is not None
            found.append(PeriodProgress(quarter, quarter.last_day, past))
            continue
        key: tuple[Any, ...] = (*base, today, registry_mark(connection))
        now = _REMEMBERED.get(key)
        if now is None:
            now = plan_progress(
                connection, catalogue, today, county=None, include_synthetic=include_synthetic
            )
            _remember(key, now)
        found.append(PeriodProgress(quarter, today, now))
    return found


def forget_history() -> None:
    """Drop every remembered count (for a database whose history was rewritten, as tests do)."""
    with _REMEMBERED_LOCK:
        _REMEMBERED.clear()
