"""The push outbox: an event per measure gained or lost, written in the transaction that changed it.

Whatever changes a stored firm's match set (a store, a deletion, a re-match after a new
catalogue or a new day) calls `record_match_changes` on the same connection, so the events and
their deliveries commit or roll back with the change: none is lost, none is invented.

The feed (GET /v1/push-events) is ordered by the event's row id. On PostgreSQL ids are drawn
from a sequence when the row is inserted, and concurrent transactions could commit them out of
order, so a reader that had passed id 12 would never see an 11 committed later. Writers of
events therefore take a transaction-scoped advisory lock just before inserting: ids are drawn
and committed in the same order. (SQLite has one writer at a time already.)
"""

import os
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from service.core.bulk import insert_many
from service.core.clock import utc_text
from service.core.tables import EVENT, PUBLICATION, SUBSCRIPTION, utcnow
from service.matching.presentation import department_json
from service.policy.catalogue import Catalogue
from service.push.capacity import fan_out
from service.push.routing import lock_event_order

MATCHED, UNMATCHED = "measure.matched", "measure.unmatched"


@dataclass(frozen=True, slots=True)
class MatchChange:
    """A firm's stored match set before and after one change."""

    uscc: str
    county: str
    before: Sequence[str]
    after: Sequence[str]

    @property
    def gained(self) -> list[str]:
        """Measures matched now and not before, in the catalogue's order of the new set."""
        old = set(self.before)
        return [m for m in self.after if m not in old]

    @property
    def lost(self) -> list[str]:
        """Measures matched before and not now."""
        new = set(self.after)
        return [m for m in self.before if m not in new]


@dataclass(slots=True)
class ChangeTally:
    """How many firms gained and lost each measure, and how many events that made."""

    gained: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)
    events: int = 0

    def add(self, change: MatchChange) -> None:
        """Count one firm's change."""
        self.gained.update(change.gained)
        self.lost.update(change.lost)
        self.events += len(change.gained) + len(change.lost)


_heads: dict[str, dict[str, dict[str, Any]]] = {}


def measure_heads(catalogue: Catalogue) -> dict[str, dict[str, Any]]:
    """What an event says of each measure: its clause, kind and lead department (zh-Hans)."""
    heads = _heads.get(catalogue.version)
    if heads is None:
        heads = _heads[catalogue.version] = {
            m.measure_id: {
                "clause": m.spec.clause,
                "kind": m.spec.kind,
                "lead_department": department_json(m.departments[0], "zh-Hans"),
            }
            for m in catalogue.measures
        }
    return heads


def _head(connection: Connection, catalogue: Catalogue, measure_id: str) -> dict[str, Any]:
    """The event head of a measure; one dropped from the catalogue is named as last published."""
    heads = measure_heads(catalogue)
    if measure_id in heads:
        return heads[measure_id]
    published = connection.execute(
        select(PUBLICATION.c.measures).order_by(PUBLICATION.c.id.desc())
    ).scalars()
    for measures in published:
        if measure_id in measures:
            return dict(measures[measure_id])
    return {"clause": None, "kind": "unknown", "lead_department": None}


def _event_rows(
    connection: Connection,
    catalogue: Catalogue,
    changes: Iterable[MatchChange],
    cause: str,
    now: datetime,
) -> list[dict[str, Any]]:
    heads = dict(measure_heads(catalogue))  # and, once each, measures no longer in it
    rows = []
    occurred = utc_text(now)
    for change in changes:
        for kind, measure_ids in ((MATCHED, change.gained), (UNMATCHED, change.lost)):
            for measure_id in measure_ids:
                head = heads.get(measure_id)
                if head is None:
                    head = heads[measure_id] = _head(connection, catalogue, measure_id)
                event_id = new_event_id()
                document = {
                    "event_id": event_id,
                    "type": kind,
                    "occurred_at": occurred,
                    "uscc": change.uscc,
                    "county": change.county,
                    "measure_id": measure_id,
                    **head,
                    "catalogue_version": catalogue.version,
                    "cause": cause,
                }
                rows.append(
                    {
                        "event_id": event_id,
                        "type": kind,
                        "occurred_at": now,
                        "uscc": change.uscc,
                        "county": change.county,
                        "measure_id": measure_id,
                        "kind": head["kind"],
                        "cause": cause,
                        "document": document,
                    }
                )
    return rows


def active_subscription_ids(connection: Connection) -> list[str]:
    """The ids of the active subscriptions."""
    query = select(SUBSCRIPTION.c.id).where(SUBSCRIPTION.c.state == "active")
    return list(connection.execute(query).scalars())


def record_match_changes(
    connection: Connection,
    catalogue: Catalogue,
    changes: Iterable[MatchChange],
    *,
    cause: str,
    tally: ChangeTally | None = None,
) -> int:
    """Write an event per measure gained or lost, and a delivery per subscription it passes
    (unless that subscription is full: service/push/capacity.py).

    Runs on the connection of the change itself. Answers the number of deliveries written (a
    worker has something to do).
    """
    changes = [c for c in changes if c.gained or c.lost]
    if not changes:
        return 0
    now = utcnow()
    rows = _event_rows(connection, catalogue, changes, cause, now)
    if tally is not None:
        for change in changes:
            tally.add(change)

    lock_event_order(connection)
    positions = _insert_events(connection, rows)
    events = [(at, row["county"], row["kind"]) for at, row in zip(positions, rows, strict=True)]
    # a delivery per active subscription the event passes, up to each one's cap of pending
    return fan_out(connection, events, now)


_EVENT_COLUMNS = (
    "id",
    "event_id",
    "type",
    "occurred_at",
    "uscc",
    "county",
    "measure_id",
    "kind",
    "cause",
    "document",
)


def new_event_id() -> str:
    """A new event's public id: `evt_` and 32 hex digits, the first 12 the time in milliseconds
    and the rest random, so that the ids written together sit together in the unique index
    (an import's hundreds of thousands of events add to its last pages, not to random ones)."""
    return f"evt_{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def _insert_events(connection: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the events; their feed positions (row ids), in the order of `rows`."""
    if connection.dialect.name == "sqlite":
        # SQLite has one writer, so the ids are ours to draw, after the greatest, in order:
        # given, the rows go in one executemany (asked to return the ids in order, SQLAlchemy
        # would insert a row per statement)
        last = connection.execute(select(func.max(EVENT.c.id))).scalar() or 0
        positions = list(range(last + 1, last + 1 + len(rows)))
        for position, row in zip(positions, rows, strict=True):
            row["id"] = position
        insert_many(connection, EVENT, _EVENT_COLUMNS, rows)
        return positions
    inserted = connection.execute(
        insert(EVENT).returning(EVENT.c.id, sort_by_parameter_order=True), rows
    )
    return list(inserted.scalars())


def as_sent(position: int, document: dict[str, Any]) -> dict[str, Any]:
    """An event as delivered and listed: its document and its place in the feed (`sequence`),
    which orders one firm's events whatever order retries deliver them in."""
    return {**document, "sequence": position}
