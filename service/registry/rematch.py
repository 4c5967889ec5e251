"""Keeping stored matches current: re-match runs.

A stored firm's matches hold for the catalogue version and the day they were computed on. A
new catalogue (published over HTTP, by `policy-match publish`, or found on disk when a process
starts) or a new day (a measure coming into or out of force, a recognition expiring) makes them
stale. A re-match run visits every stale firm in batches of one transaction each: it matches the
stored profile again, writes the new set, and pushes what was gained or lost (push/outbox.py).
Runs are rows: queued by whoever notices, claimed by a worker under a lease, with their progress
and their tally (firms that gained or lost each measure) written batch by batch, so another
worker finishes a run whose worker died.
"""

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, bindparam, func, insert, or_, select, update

from service.core.database import run_read, run_write
from service.core.tables import ENTERPRISE, RUN, utcnow
from service.policy.catalogue import Catalogue
from service.policy.profile import Profile
from service.push.outbox import ChangeTally, MatchChange, record_match_changes
from service.registry.store import matched_ids

log = logging.getLogger("policy_match.rematch")

RUN_LEASE_SECONDS = 120.0
_REMATCHED = (
    update(ENTERPRISE)
    .where(ENTERPRISE.c.uscc == bindparam("key"))
    .values(
        matched=bindparam("new_matched", type_=ENTERPRISE.c.matched.type),
        matched_catalogue_version=bindparam("new_version"),
        matched_on=bindparam("new_day"),
    )
)


# --- runs -------------------------------------------------------------------------------------


def _stale(version: str, day: date) -> Any:
    return (ENTERPRISE.c.deleted_at.is_(None)) & or_(
        ENTERPRISE.c.matched_catalogue_version != version, ENTERPRISE.c.matched_on != day
    )


def any_stale(connection: Connection, version: str, day: date) -> bool:
    """Whether a stored firm's matches are older than this catalogue or this day."""
    return (
        connection.execute(select(ENTERPRISE.c.uscc).where(_stale(version, day)).limit(1)).first()
        is not None
    )


def queue_rematch(
    connection: Connection, *, reason: str, version: str, day: date, requested_by: str
) -> int:
    """Queue a run for this catalogue and day; an unfinished one for them is reused. Its id."""
    existing = connection.execute(
        select(RUN.c.id).where(
            RUN.c.catalogue_version == version, RUN.c.day == day, RUN.c.state != "done"
        )
    ).scalar()
    if existing is not None:
        return int(existing)
    return int(
        connection.execute(
            insert(RUN)
            .values(
                reason=reason,
                catalogue_version=version,
                day=day,
                state="queued",
                requested_by=requested_by,
                requested_at=utcnow(),
                firms_done=0,
                firms_changed=0,
                events=0,
                gained={},
                lost={},
            )
            .returning(RUN.c.id)
        ).scalar_one()
    )


@dataclass(frozen=True, slots=True)
class RunClaim:
    """A run a worker holds: which catalogue and day it brings firms up to."""

    run_id: int
    catalogue_version: str
    day: date


def claim_run(
    connection: Connection, *, worker: str, run_id: int | None = None, now: datetime | None = None
) -> RunClaim | None:
    """Take the oldest queued run (or a running one whose worker's lease ran out), if any.

    With `run_id`, that run only.
    """
    now = now or utcnow()
    query = (
        select(RUN.c.id, RUN.c.catalogue_version, RUN.c.day, RUN.c.started_at)
        .where(
            or_(
                RUN.c.state == "queued",
                (RUN.c.state == "running") & (RUN.c.lease_until < now),
            )
        )
        .order_by(RUN.c.id)
        .limit(1)
    )
    if run_id is not None:
        query = query.where(RUN.c.id == run_id)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row = connection.execute(query).first()
    if row is None:
        return None
    connection.execute(
        update(RUN)
        .where(RUN.c.id == row.id)
        .values(
            state="running",
            worker=worker,
            started_at=row.started_at or now,
            lease_until=now + timedelta(seconds=RUN_LEASE_SECONDS),
        )
    )
    return RunClaim(int(row.id), row.catalogue_version, row.day)


def release_run(connection: Connection, run_id: int) -> None:
    """Give a claimed run back to the queue (its claimant cannot execute it)."""
    connection.execute(
        update(RUN).where(RUN.c.id == run_id).values(state="queued", worker=None, lease_until=None)
    )


def finish_run(connection: Connection, run_id: int, *, superseded: bool = False) -> None:
    """Mark a run done (superseded: a newer catalogue was published before it could run)."""
    values: dict[str, Any] = {"state": "done", "finished_at": utcnow(), "lease_until": None}
    if superseded:
        values["reason"] = "superseded"
    connection.execute(update(RUN).where(RUN.c.id == run_id).values(**values))


def run_record(connection: Connection, run_id: int) -> dict[str, Any] | None:
    """A run as stored, or None."""
    row = connection.execute(select(RUN).where(RUN.c.id == run_id)).first()
    return None if row is None else dict(row._mapping)


# --- batches ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What one batch did: where it ended and how many firms it saw."""

    last_uscc: str | None
    firms: int


def _merge(stored: Mapping[str, int], counts: Counter[str]) -> dict[str, int]:
    merged = Counter(stored)
    merged.update(counts)
    return dict(sorted(merged.items()))


def rematch_batch(
    connection: Connection,
    catalogue: Catalogue,
    day: date,
    *,
    after: str,
    limit: int,
    run_id: int | None = None,
) -> BatchResult:
    """Re-match up to `limit` stale firms after credit code `after`, in this transaction.

    Rows are locked as they are read (skipping, on PostgreSQL, any a store holds: that store
    matches the firm itself). A run's progress and tally are updated in the same transaction.
    """
    query = (
        select(ENTERPRISE.c.uscc, ENTERPRISE.c.county, ENTERPRISE.c.profile, ENTERPRISE.c.matched)
        .where(_stale(catalogue.version, day), ENTERPRISE.c.uscc > after)
        .order_by(ENTERPRISE.c.uscc)
        .limit(limit)
    )
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = connection.execute(query).all()
    if not rows:
        return BatchResult(None, 0)
    updates, changes = [], []
    for row in rows:
        try:
            matched = list(matched_ids(catalogue, Profile.model_validate(row.profile), day))
        except ValidationError as e:  # a vocabulary changed under a stored profile
            log.warning("%s: stored profile no longer valid, matches kept: %s", row.uscc, e)
            matched = list(row.matched)
        updates.append(
            {
                "key": row.uscc,
                "new_matched": matched,
                "new_version": catalogue.version,
                "new_day": day,
            }
        )
        if matched != list(row.matched):
            changes.append(MatchChange(row.uscc, row.county, list(row.matched), matched))
    connection.execute(_REMATCHED, updates)
    tally = ChangeTally()
    record_match_changes(connection, catalogue, changes, cause="rematch", tally=tally)
    if run_id is not None:
        run = connection.execute(select(RUN.c.gained, RUN.c.lost).where(RUN.c.id == run_id)).one()
        connection.execute(
            update(RUN)
            .where(RUN.c.id == run_id)
            .values(
                firms_done=RUN.c.firms_done + len(rows),
                firms_changed=RUN.c.firms_changed + len(changes),
                events=RUN.c.events + tally.events,
                gained=_merge(run.gained, tally.gained),
                lost=_merge(run.lost, tally.lost),
                lease_until=utcnow() + timedelta(seconds=RUN_LEASE_SECONDS),
            )
        )
    return BatchResult(rows[-1].uscc, len(rows))


def count_stale(connection: Connection, version: str, day: date) -> int:
    """How many stored firms a run for this catalogue and day has to visit."""
    return int(
        connection.execute(
            select(func.count()).select_from(ENTERPRISE).where(_stale(version, day))
        ).scalar_one()
    )


async def execute_run(
    engine: Engine,
    catalogue: Catalogue,
    claim: RunClaim,
    *,
    batch_size: int,
    progress: Callable[[int], object] | None = None,
) -> None:
    """Bring every stale firm up to the run's catalogue and day, batch by batch, then finish.

    Passes are repeated until one changes nothing: a firm stored meanwhile by a process still
    serving the previous catalogue is stale again and is caught by the next pass.
    """
    total = await run_read(engine, lambda c: count_stale(c, claim.catalogue_version, claim.day))
    await run_write(
        engine,
        lambda c: c.execute(update(RUN).where(RUN.c.id == claim.run_id).values(firms_total=total)),
    )
    while True:
        after, visited = "", 0
        while True:
            result = await run_write(
                engine,
                partial(
                    rematch_batch,
                    catalogue=catalogue,
                    day=claim.day,
                    after=after,
                    limit=batch_size,
                    run_id=claim.run_id,
                ),
            )
            if result.last_uscc is None:
                break
            after, visited = result.last_uscc, visited + result.firms
            if progress is not None:
                progress(result.firms)
        if visited == 0:
            break
    await run_write(engine, lambda c: finish_run(c, claim.run_id))
