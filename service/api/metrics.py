"""Prometheus metrics at GET /metrics.

Request counts and latency by route come from prometheus-fastapi-instrumentator. Ours:

- `policy_match_decisions_total{measure_id, outcome}`: the decisions the matching endpoints
  answered, per measure (matched, near_miss, undetermined). Counted in plain Counters on the
  hot path (about a microsecond a match) and read out when scraped.
- `policy_match_push_attempts_total{outcome}`: delivery attempts of this process's worker
  (delivered, retry, dead, gone, stale): failures are everything but delivered
  (counted in service/push/metrics.py).
- the database's gauges (service/push/gauges.py): the outbox by state and its oldest pending,
  subscriptions by state, events not queued; read in the background, marked stale when the
  database does not answer, so a scrape never waits on it.

Access: service/api/metrics_guard.py (METRICS_TOKEN, METRICS_ALLOW_FROM).

Each process keeps its own counters: scrape every process (or worker) of a deployment.
"""

from collections import Counter
from collections.abc import Iterator
from operator import attrgetter, itemgetter
from typing import Any

from fastapi import FastAPI, Request
from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator, metrics
from prometheus_fastapi_instrumentator.middleware import PrometheusInstrumentatorMiddleware
from sqlalchemy.engine import Engine
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from service.api.metrics_guard import MetricsGuard, parse_networks
from service.api.route_table import RouteTable, route_table
from service.matching.decisions import MatchResult
from service.push.gauges import DatabaseGauges
from service.push.metrics import PUSH_ATTEMPTS

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_measure_id = attrgetter("measure_id")
_first = itemgetter(0)


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
    ProcessCollector(registry=registry)  # process_resident_memory_bytes, CPU, open files
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
    settings = app.state.settings
    token, networks = settings.metrics_token, parse_networks(settings.metrics_allow_from)
    if token is not None or networks:
        app.add_middleware(
            MetricsGuard,
            token=None if token is None else token.get_secret_value(),
            networks=networks,
            path="/metrics",
        )


def watch_outbox(app: FastAPI, engine: Engine) -> DatabaseGauges | None:
    """Report this engine's database at /metrics (called once it exists); the collector,
    whose `run(stop)` the caller starts as a task (None when metrics are off)."""
    registry: CollectorRegistry | None = getattr(app.state, "metrics_registry", None)
    if registry is None:
        return None
    collector = DatabaseGauges(engine, app.state.settings.metrics_refresh_seconds)
    registry.register(collector)
    app.state.outbox_collector = collector
    return collector


def forget_outbox(app: FastAPI) -> None:
    """Stop reporting the outbox (the engine is closing)."""
    collector: Any = getattr(app.state, "outbox_collector", None)
    if collector is not None:
        app.state.metrics_registry.unregister(collector)
        app.state.outbox_collector = None
