"""Catalogue publications: which catalogue is in force, and putting a new one in force.

Every process and worker serves the newest publication. Putting a catalogue in force (over
HTTP, by `policy-match publish`, or when a process starts with a new one on disk) records a
publication and, when stored matches are older than it or than the day, queues the re-match
that brings them up to it, in the same transaction.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, insert, select

from service.core.tables import PUBLICATION, utcnow
from service.policy.catalogue import Catalogue
from service.push.outbox import measure_heads
from service.registry.rematch import any_stale, queue_rematch


def published_version(connection: Connection) -> str | None:
    """The catalogue version in force: the newest publication's (None before the first)."""
    return connection.execute(
        select(PUBLICATION.c.version).order_by(PUBLICATION.c.id.desc()).limit(1)
    ).scalar()


def publish(connection: Connection, catalogue: Catalogue, *, by: str) -> bool:
    """Put a catalogue in force unless it already is; True if it was published now."""
    if published_version(connection) == catalogue.version:
        return False
    connection.execute(
        insert(PUBLICATION).values(
            version=catalogue.version,
            published_at=utcnow(),
            published_by=by,
            measures={m: {"measure_id": m, **h} for m, h in measure_heads(catalogue).items()},
        )
    )
    return True


@dataclass(frozen=True, slots=True)
class InForce:
    """What putting a catalogue in force did: the version it replaced, the re-match it queued."""

    previous: str | None
    rematch_run: int | None  # None: every stored firm's matches were current already


def put_in_force(connection: Connection, catalogue: Catalogue, *, by: str, day: date) -> InForce:
    """Publish the catalogue and queue the re-match of the firms whose matches it makes stale."""
    previous = published_version(connection)
    publish(connection, catalogue, by=by)
    if not any_stale(connection, catalogue.version, day):
        return InForce(previous, None)
    run_id = queue_rematch(
        connection,
        reason="catalogue_published",
        version=catalogue.version,
        day=day,
        requested_by=by,
    )
    return InForce(previous, run_id)
