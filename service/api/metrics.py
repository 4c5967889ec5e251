"""Prometheus metrics at GET /metrics.

Request counts and latency by route: service/api/http_metrics.py. Ours:

- `policy_match_decisions_total{measure_id, outcome}`: the decisions the matching endpoints
  answered, per measure (service/matching/metrics.py).
- `policy_match_push_attempts_total{outcome}`: delivery attempts of this process's worker
  (delivered, retry, dead, gone, stale): failures are everything but delivered
  (counted in service/push/metrics.py).
- the database's gauges (service/push/gauges.py): the outbox by state and its oldest pending,
  subscriptions by state, events not queued; read in the background, marked stale when the
  database does not answer, so a scrape never waits on it.

Access: service/api/metrics_guard.py (METRICS_TOKEN, METRICS_ALLOW_FROM).

Each process keeps its own counters: scrape every process (or worker) of a deployment.
"""

from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_fastapi_instrumentator import Instrumentator, metrics
from sqlalchemy.engine import Engine

from service.api.http_metrics import HttpMetrics
from service.api.metrics_guard import MetricsGuard
from service.api.route_table import route_table
from service.core.settings import parse_networks
from service.push.gauges import DatabaseGauges
from service.push.metrics import PUSH_ATTEMPTS

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def install_metrics(app: FastAPI, registry: CollectorRegistry | None = None) -> None:
    """Instrument every route and serve GET /metrics (outside the OpenAPI document)."""
    registry = registry or CollectorRegistry()
    ProcessCollector(registry=registry)  # process_resident_memory_bytes, CPU, open files
    registry.register(PUSH_ATTEMPTS)
    registry.register(app.state.decisions)
    app.state.metrics_registry = registry
    # requests by route, method and status, and latency by route: what the dashboards use
    # (each told the registry: their default is the global one, which /metrics does not show)
    instrumentations = [
        metrics.requests(registry=registry),
        metrics.latency(buckets=LATENCY_BUCKETS, should_include_status=False, registry=registry),
    ]
    app.add_middleware(
        HttpMetrics,
        instrumentations=[i for i in instrumentations if i is not None],
        templates=route_table(app),
        excluded="/metrics",
    )
    Instrumentator(registry=registry).expose(app, include_in_schema=False, should_gzip=True)
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
