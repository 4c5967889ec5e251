"""Storing many profiles in one transaction (an import's batch) with a statement per kind of write.

`store_profiles` has the effect of `store_profile` called for each profile in order, without its
several statements per row: the batch's new firms are inserted if absent in one statement (as
store_profile begins, so that on PostgreSQL two concurrent first writes of one firm cannot both
create it), the others read and locked in one SELECT, then updated, versioned and given their
consents by one executemany each, and every measure gained or lost goes to the outbox in one
`record_match_changes`. A credit code repeated in the batch starts a new part at its second
occurrence: each part's firms are distinct, and the second store reads what the first wrote.

Which firms the insert created: on PostgreSQL its RETURNING; on SQLite, where the rows go in one
driver executemany (service/core/bulk.py) that returns nothing, the rows with the last rowids,
as many as it inserted. Matching stays per profile (tens of microseconds each).
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite

from service.core.bulk import insert_many
from service.core.tables import CONSENT, ENTERPRISE, VERSION, utcnow
from service.policy.catalogue import Catalogue
from service.policy.profile import Profile
from service.push.outbox import MatchChange, record_match_changes
from service.registry.store import REFRESHED, Transition, firm_row, first_store, transition


@dataclass(slots=True)
class StoredCounts:
    """What storing a batch did: firms created (or re-created), updated and unchanged, and the
    push deliveries written for the measures they gained or lost."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deliveries: int = 0


@dataclass(slots=True)
class _Writes:
    """The writes of one part of a batch, gathered to be executed a statement each."""

    now: datetime
    updates: dict[frozenset[str], list[dict[str, Any]]] = field(default_factory=dict)
    versions: list[dict[str, Any]] = field(default_factory=list)
    consents_replaced: list[str] = field(default_factory=list)
    consents: list[dict[str, str]] = field(default_factory=list)


# Statements built once, their values bound at execution (store.py says why).
_INSERT_IF_ABSENT = postgresql.insert(ENTERPRISE).on_conflict_do_nothing(index_elements=["uscc"])
_INSERT_IF_ABSENT_RETURNING = _INSERT_IF_ABSENT.returning(ENTERPRISE.c.uscc)
_SQLITE_INSERT_IF_ABSENT = sqlite.insert(ENTERPRISE).on_conflict_do_nothing(index_elements=["uscc"])
_LAST_INSERTED = (
    select(ENTERPRISE.c.uscc).order_by(literal_column("rowid").desc()).limit(bindparam("count"))
)
_CURRENT = select(
    ENTERPRISE.c.uscc,
    ENTERPRISE.c.version,
    ENTERPRISE.c.profile,
    ENTERPRISE.c.deleted_at,
    ENTERPRISE.c.matched,
).where(ENTERPRISE.c.uscc.in_(bindparam("keys", expanding=True)))
# in credit-code order, so that two batches locking the same firms wait rather than deadlock
_LOCK_CURRENT = _CURRENT.order_by(ENTERPRISE.c.uscc).with_for_update()
_UPDATE = update(ENTERPRISE).where(ENTERPRISE.c.uscc == bindparam("key"))
_VERSION_COLUMNS = ("uscc", "version", "action", "profile", "changed_by", "changed_at")
_DELETE_CONSENTS = delete(CONSENT).where(CONSENT.c.uscc.in_(bindparam("keys", expanding=True)))


def _parts(profiles: Sequence[Profile]) -> Iterator[list[Profile]]:
    """The batch in runs of distinct credit codes, in order."""
    part: list[Profile] = []
    seen: set[str] = set()
    for profile in profiles:
        if profile.uscc is None:
            raise ValueError("a stored profile needs its uscc")
        if profile.uscc in seen:
            yield part
            part, seen = [], set()
        part.append(profile)
        seen.add(profile.uscc)
    if part:
        yield part


def store_profiles(
    connection: Connection,
    catalogue: Catalogue,
    profiles: Sequence[Profile],
    *,
    changed_by: str,
    day: date,
    synthetic: bool = False,
) -> StoredCounts:
    """Store profiles (each with its uscc) and their matches on `day`, as store_profile would one
    after another, in the caller's transaction."""
    counts = StoredCounts()
    changes: list[MatchChange] = []
    for part in _parts(profiles):
        changes += _store_part(connection, catalogue, part, changed_by, day, synthetic, counts)
    counts.deliveries = record_match_changes(connection, catalogue, changes, cause="profile_stored")
    return counts


def _store_part(
    connection: Connection,
    catalogue: Catalogue,
    part: list[Profile],
    changed_by: str,
    day: date,
    synthetic: bool,
    counts: StoredCounts,
) -> list[MatchChange]:
    """Store profiles of distinct firms; the match changes they make, in order."""
    writes = _Writes(utcnow())
    rows = [
        {
            **firm_row(
                catalogue,
                profile,
                day=day,
                changed_by=changed_by,
                synthetic=synthetic,
                now=writes.now,
            ),
            "uscc": profile.uscc,
            "version": 1,
            "created_at": writes.now,
        }
        for profile in part
    ]
    inserted = _insert_absent(connection, rows)
    stored = [row["uscc"] for row in rows if row["uscc"] not in inserted]
    current = {}
    if stored:
        query = _LOCK_CURRENT if connection.dialect.name == "postgresql" else _CURRENT
        current = {r.uscc: r for r in connection.execute(query, {"keys": stored})}
    changes = []
    for profile, row in zip(part, rows, strict=True):
        uscc = row["uscc"]
        if uscc in inserted:
            step = first_store(profile)
            _versioned(writes, row, step, changed_by)
            _consents(writes, uscc, step.consents or [], fresh=True)
        else:
            step = transition(current[uscc], profile, row["profile"])
            _existing(writes, row, step, changed_by)
        if step.created:
            counts.created += 1
        elif step.changed:
            counts.updated += 1
        else:
            counts.unchanged += 1
        changes.append(MatchChange(uscc, profile.county, step.before, row["matched"]))
    _execute(connection, writes)
    return changes


def _insert_absent(connection: Connection, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the firms not stored yet, as the part's first write (so that SQLite's write lock
    is taken at once); the credit codes inserted."""
    if connection.dialect.name != "sqlite":
        # in credit-code order, as the rows are then locked: concurrent batches wait, never
        # for each other
        ordered = sorted(rows, key=lambda row: str(row["uscc"]))
        return set(connection.execute(_INSERT_IF_ABSENT_RETURNING, ordered).scalars())
    columns = tuple(rows[0])
    count = insert_many(connection, ENTERPRISE, columns, rows, statement=_SQLITE_INSERT_IF_ABSENT)
    if not count:
        return set()
    # SQLite gives a new row the rowid after the greatest, and holds the table for this one
    # writer: the rows inserted are the `count` last
    return set(connection.execute(_LAST_INSERTED, {"count": count}).scalars())


def _existing(writes: _Writes, row: dict[str, Any], step: Transition, changed_by: str) -> None:
    """Gather the writes of a store over a stored row."""
    if step.changed:
        values = {k: v for k, v in row.items() if k not in ("uscc", "created_at")}
        if step.created:  # re-created after deletion
            values["created_at"] = writes.now
    else:
        values = {k: row[k] for k in REFRESHED}
    values |= {"version": step.version, "key": row["uscc"]}
    writes.updates.setdefault(frozenset(values), []).append(values)
    if step.changed:
        _versioned(writes, row, step, changed_by)
        if step.consents is not None:
            _consents(writes, row["uscc"], step.consents, fresh=step.created)


def _versioned(writes: _Writes, row: dict[str, Any], step: Transition, changed_by: str) -> None:
    writes.versions.append(
        {
            "uscc": row["uscc"],
            "version": step.version,
            "action": step.action,
            "profile": row["profile"],
            "changed_by": changed_by,
            "changed_at": writes.now,
        }
    )


def _consents(writes: _Writes, uscc: str, banks: list[str], *, fresh: bool) -> None:
    if not fresh:  # a firm (re-)created has none: deletion removed them
        writes.consents_replaced.append(uscc)
    writes.consents += [{"bank_id": bank, "uscc": uscc} for bank in banks]


def _execute(connection: Connection, writes: _Writes) -> None:
    """The gathered writes, a statement each (an UPDATE per set of columns changed)."""
    for values in writes.updates.values():
        connection.execute(_UPDATE, values)
    insert_many(connection, VERSION, _VERSION_COLUMNS, writes.versions)
    if writes.consents_replaced:
        connection.execute(_DELETE_CONSENTS, {"keys": writes.consents_replaced})
    insert_many(connection, CONSENT, ("bank_id", "uscc"), writes.consents)
