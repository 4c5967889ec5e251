"""How many stored firms a measure matches today: one count in SQL, kept until the registry or
the catalogue changes.

The count is the bank query's filter (service/banks/eligibility_sql.py) without the consent,
over the live firms, so it equals the number of stored firms POST /v1/match matches. Counting
100,000 firms costs a scan (about 100 to 350 ms on a busy machine), so the count is kept per
catalogue version, measure and day, together with the registry's change marker: the latest
`updated_at` of the enterprise table (indexed; every store and delete sets it). A kept count is
also recounted after MAX_AGE, so that a change committed late with an earlier timestamp (two
writers at once) is seen within that time.
"""

import threading
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from service.banks.eligibility_sql import eligibility_filter
from service.core.tables import ENTERPRISE
from service.policy.catalogue import Catalogue, Measure

MAX_AGE = 60.0  # seconds a kept count is trusted without recounting
MAX_KEPT = 4096  # counts kept at most (catalogue versions × measures × days)


def registry_marker(connection: Connection) -> Any:
    """What changes whenever a stored firm does: the latest `updated_at` (an index lookup)."""
    return connection.execute(select(func.max(ENTERPRISE.c.updated_at))).scalar()


def count_matching(
    connection: Connection, catalogue: Catalogue, measure: Measure, day: date
) -> int:
    """The number of live stored firms the measure matches on `day`, counted now."""
    query = (
        select(func.count())
        .select_from(ENTERPRISE)
        .where(ENTERPRISE.c.deleted_at.is_(None), eligibility_filter(catalogue, measure, day))
    )
    return int(connection.execute(query).scalar_one())


@dataclass(frozen=True, slots=True)
class _Kept:
    marker: Any
    count: int
    counted_at: float


class MatchCounts:
    """Counts of stored firms per measure and day, recounted when the registry changes."""

    def __init__(self, max_age: float = MAX_AGE) -> None:
        self.max_age = max_age
        self._kept: dict[tuple[str, str, date], _Kept] = {}
        self._lock = threading.Lock()

    def count(
        self, connection: Connection, catalogue: Catalogue, measure: Measure, day: date
    ) -> int:
        """The measure's count on `day`: kept while the marker is the same and it is fresh."""
        key = (catalogue.version, measure.measure_id, day)
        marker = registry_marker(connection)
        now = time.monotonic()
        kept = self._kept.get(key)
        if kept is not None and kept.marker == marker and now - kept.counted_at < self.max_age:
            return kept.count
        counted = count_matching(connection, catalogue, measure, day)
        with self._lock:
            if len(self._kept) >= MAX_KEPT:
                self._kept.clear()
            self._kept[key] = _Kept(marker, counted, now)
        return counted


MATCH_COUNTS = MatchCounts()  # the process's counts
