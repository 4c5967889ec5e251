"""The database's gauges at /metrics, read in the background, never when scraped.

A scrape used to query the outbox: 2 s on a large one, and a 503 for the whole of /metrics
while the database was down. Now a task of the service reads them every
METRICS_REFRESH_SECONDS, and a scrape answers the last good reading at once, with its age
(`policy_match_database_gauges_age_seconds`) and `policy_match_database_gauges_stale` = 1
when the last reading failed (or none has succeeded yet). Process and request metrics are
unaffected by the database.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, func, select
from sqlalchemy.engine import Engine

from service.core.database import run_read
from service.core.tables import DELIVERY, SUBSCRIPTION, as_utc

log = logging.getLogger("policy_match.metrics")

DELIVERY_STATES = ("pending", "delivered", "dead", "cancelled")
SUBSCRIPTION_STATES = ("active", "paused", "ended")


@dataclass(slots=True)
class Reading:
    """The database's gauges as last read."""

    deliveries: dict[str, int] = field(default_factory=dict)
    oldest_due: datetime | None = None
    subscriptions: dict[str, int] = field(default_factory=dict)
    events_not_queued: int = 0


def read_gauges(connection: Connection) -> Reading:
    """Deliveries by state with the oldest pending, subscriptions by state, events not queued."""
    reading = Reading()
    rows = connection.execute(
        select(DELIVERY.c.state, func.count(), func.min(DELIVERY.c.next_attempt_at)).group_by(
            DELIVERY.c.state
        )
    ).all()
    for state, count, earliest in rows:
        reading.deliveries[state] = int(count)
        if state == "pending" and earliest is not None:
            reading.oldest_due = as_utc(earliest)
    for state, count, not_queued in connection.execute(
        select(
            SUBSCRIPTION.c.state, func.count(), func.sum(SUBSCRIPTION.c.events_not_queued)
        ).group_by(SUBSCRIPTION.c.state)
    ).all():
        reading.subscriptions[state] = int(count)
        reading.events_not_queued += int(not_queued or 0)
    return reading


class DatabaseGauges(Collector):
    """The last good reading of the database's gauges, and how old it is."""

    def __init__(self, engine: Engine, interval: float) -> None:
        self.engine = engine
        self.interval = interval
        self.reading: Reading | None = None
        self.read_at: float | None = None  # monotonic time of the last good reading
        self.failing = False

    async def refresh(self) -> bool:
        """Read the gauges now; False (and stale) if the database did not answer."""
        try:
            reading = await run_read(self.engine, read_gauges)
        except Exception as e:  # any failure of the database: keep the last reading, say so
            if not self.failing:
                log.warning("database gauges not refreshed: %s", e.__class__.__name__)
            self.failing = True
            return False
        self.reading, self.read_at, self.failing = reading, time.monotonic(), False
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh every `interval` seconds until `stop` is set."""
        while not stop.is_set():
            await self.refresh()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)

    def collect(self) -> Iterator[Metric]:
        """The last reading as gauges (zeros before the first), its age and staleness."""
        reading = self.reading or Reading()
        depth = GaugeMetricFamily(
            "policy_match_push_deliveries",
            "Push deliveries in the outbox by state (pending is the depth still to send)",
            labels=["state"],
        )
        for state in DELIVERY_STATES:
            depth.add_metric([state], reading.deliveries.get(state, 0))
        yield depth
        oldest = reading.oldest_due
        age = 0.0 if oldest is None else (datetime.now(UTC) - oldest).total_seconds()
        yield GaugeMetricFamily(
            "policy_match_push_oldest_pending_seconds",
            "Age of the oldest pending delivery's due time (0 when none is pending)",
            value=max(0.0, age),
        )
        subscriptions = GaugeMetricFamily(
            "policy_match_push_subscriptions",
            "Push subscriptions by state (active, paused, ended)",
            labels=["state"],
        )
        for state in sorted({*SUBSCRIPTION_STATES, *reading.subscriptions}):
            subscriptions.add_metric([state], reading.subscriptions.get(state, 0))
        yield subscriptions
        yield GaugeMetricFamily(
            "policy_match_push_events_not_queued",
            "Events not queued for a subscription because it had its most deliveries pending",
            value=reading.events_not_queued,
        )
        age_of_reading = -1.0 if self.read_at is None else time.monotonic() - self.read_at
        yield GaugeMetricFamily(
            "policy_match_database_gauges_age_seconds",
            "Seconds since the database gauges were last read (-1: never yet)",
            value=age_of_reading,
        )
        yield GaugeMetricFamily(
            "policy_match_database_gauges_stale",
            "1 when the last reading of the database gauges failed or none has succeeded yet",
            value=1.0 if self.failing or self.read_at is None else 0.0,
        )
