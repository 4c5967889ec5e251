"""Prometheus metrics at GET /metrics.

Request counts and latency by route come from prometheus-fastapi-instrumentator. Ours:

- `policy_match_decisions_total{measure_id, outcome}`: the decisions the matching endpoints
  answered, per measure (matched, near_miss, undetermined). Counted in plain Counters on the
  hot path (about a microsecond a match) and read out when scraped.
- `policy_match_push_attempts_total{outcome}`: delivery attempts of this process's worker
  (delivered, retry, dead, gone, stale): failures are everything but delivered.
- `policy_match_push_deliveries{state}` and `policy_match_push_oldest_pending_seconds`: the
  outbox as the database holds it (all workers), read when scraped.

Each process keeps its own counters: scrape every process (or worker) of a deployment.
"""

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from operator import attrgetter, itemgetter
from typing import Any

from fastapi import FastAPI, Request
from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator, metrics
from prometheus_fastapi_instrumentator.middleware import PrometheusInstrumentatorMiddleware
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from service.decisions import MatchResult
from service.models import PushDelivery
from service.route_table import RouteTable, route_table

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_measure_id = attrgetter("measure_id")
_first = itemgetter(0)

# Not in the global registry: each application's registry takes it (several in the tests).
PUSH_ATTEMPTS = PromCounter(
    "policy_match_push_attempts",
    "Push delivery attempts by this process's worker, by outcome",
    ["outcome"],
    registry=None,
)
for _outcome in ("delivered", "retry", "dead", "gone", "stale"):
    PUSH_ATTEMPTS.labels(_outcome)  # shown at 0 from the start


class DecisionTally(Collector):
    """How often each measure was answered matched, a near miss or undetermined."""

    def __init__(self) -> None:
        self.matched: Counter[str] = Counter()
        self.near_miss: Counter[str] = Counter()
        self.undetermined: Counter[str] = Counter()

    def add(self, result: MatchResult) -> None:
        """Count one answered match."""
        self.matched.update(map(_measure_id, result.matched_measures))
        self.near_miss.update(map(_measure_id, map(_first, result.near_measures)))
        self.undetermined.update(map(_measure_id, map(_first, result.undetermined_measures)))

    def collect(self) -> Iterator[Metric]:
        """The tally as one Prometheus counter family."""
        family = CounterMetricFamily(
            "policy_match_decisions",
            "Decisions answered by the matching endpoints, by measure and outcome",
            labels=["measure_id", "outcome"],
        )
        for outcome in ("matched", "near_miss", "undetermined"):
            for measure_id, count in dict(getattr(self, outcome)).items():
                family.add_metric([measure_id, outcome], count)
        yield family


class OutboxCollector(Collector):
    """Deliveries by state and the age of the oldest one pending, read at scrape time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        """Two gauges from one grouped query."""
        depth = GaugeMetricFamily(
            "policy_match_push_deliveries",
            "Push deliveries in the outbox by state (pending is the depth still to send)",
            labels=["state"],
        )
        oldest = GaugeMetricFamily(
            "policy_match_push_oldest_pending_seconds",
            "Age of the oldest pending delivery's first due time (0 when none is pending)",
        )
        table = PushDelivery.__table__  # type: ignore[attr-defined]
        query = select(table.c.state, func.count(), func.min(table.c.next_attempt_at)).group_by(
            table.c.state
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        counts = {"pending": 0, "delivered": 0, "dead": 0, "cancelled": 0}
        age = 0.0
        for state, count, earliest in rows:
            counts[state] = count
            if state == "pending" and earliest is not None:
                due = earliest if earliest.tzinfo else earliest.replace(tzinfo=UTC)
                age = max(0.0, (datetime.now(UTC) - due).total_seconds())
        for state, count in counts.items():
            depth.add_metric([state], count)
        oldest.add_metric([], age)
        yield depth
        yield oldest


class TemplatedMiddleware(PrometheusInstrumentatorMiddleware):
    """The instrumentator's middleware, its route template looked up in the route table.

    The instrumentator's own lookup walks every router on every request (about a third of a
    trivial GET's time, measured).
    """

    def __init__(self, app: ASGIApp, *, templates: RouteTable, **options: Any) -> None:
        super().__init__(app, **options)
        self.templates = templates

    def _get_handler(self, request: Request) -> tuple[str, bool]:
        template = self.templates.template(request.url.path)
        return (template, True) if template else (request.url.path, False)


def install_metrics(app: FastAPI, registry: CollectorRegistry | None = None) -> None:
    """Instrument every route and serve GET /metrics (outside the OpenAPI document)."""
    registry = registry or CollectorRegistry()
    registry.register(PUSH_ATTEMPTS)
    registry.register(app.state.decisions)
    app.state.metrics_registry = registry
    instrumentator = Instrumentator(
        should_group_status_codes=False,
        excluded_handlers=["/metrics"],
        registry=registry,
    )
    # requests by route, method and status, and latency by route: what the dashboards use
    # (each told the registry: their default is the global one, which /metrics does not show)
    instrumentator.add(
        metrics.requests(registry=registry),
        metrics.latency(buckets=LATENCY_BUCKETS, should_include_status=False, registry=registry),
    )
    instrumentator.instrument(app).expose(app, include_in_schema=False, should_gzip=True)
    # the same middleware and options, with a route table built once
    library: Any = PrometheusInstrumentatorMiddleware
    ours: Any = TemplatedMiddleware
    (added,) = [m for m in app.user_middleware if m.cls is library]
    app.user_middleware[app.user_middleware.index(added)] = Middleware(
        ours, templates=route_table(app), **added.kwargs
    )


def watch_outbox(app: FastAPI, engine: Engine) -> None:
    """Report the outbox of this engine's database at /metrics (called once it exists)."""
    registry: CollectorRegistry | None = getattr(app.state, "metrics_registry", None)
    if registry is None:
        return
    collector = OutboxCollector(engine)
    registry.register(collector)
    app.state.outbox_collector = collector


def forget_outbox(app: FastAPI) -> None:
    """Stop reporting the outbox (the engine is closing)."""
    collector: Any = getattr(app.state, "outbox_collector", None)
    if collector is not None:
        app.state.metrics_registry.unregister(collector)
        app.state.outbox_collector = None
