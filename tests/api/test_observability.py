"""What operators see: /healthz and /readyz, Prometheus /metrics, the request id, JSON logs and
the decision log with identifying fields masked (a real uvicorn process, its stdout read)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bench.common import free_port
from service.api.auth import issue_token
from service.core.migrate import upgrade_database
from service.policy.examples import FULL_PROFILE
from service.push.metrics import PUSH_ATTEMPTS
from tests.conftest import TEST_SETTINGS, Token, serve
from tests.factories import (
    FAST,
    deliver_until,
    firm,
    new_uscc,
    put,
    states,
    subscribe,
    worker_for,
)
from tests.receiver import Receiver


def metric(client: TestClient, line_start: str) -> float:
    """The value of the first /metrics sample whose line starts so (0 when absent)."""
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def fresh(client: TestClient) -> TestClient:
    """The client, once the service has read its database gauges again (they are read in the
    background, not when scraped)."""
    assert client.portal is not None
    collector = client.app.state.outbox_collector  # type: ignore[attr-defined]
    assert client.portal.call(collector.refresh)
    return client


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["catalogue_version"]


def test_metrics_count_decisions_per_measure_and_latency_per_route(
    client: TestClient, auth: Token
) -> None:
    matched = 'policy_match_decisions_total{measure_id="loan-interest-subsidy",outcome="matched"}'
    near = 'policy_match_decisions_total{measure_id="little-giant-funding",outcome="near_miss"}'
    before, before_near = metric(client, matched), metric(client, near)
    answer = client.post("/v1/match?as_of=2025-06-01", json=FULL_PROFILE, headers=auth("match"))
    ids = {m["measure_id"] for m in answer.json()["matched"]}
    near_ids = {m["measure_id"] for m in answer.json()["near_misses"]}
    assert "loan-interest-subsidy" in ids and "little-giant-funding" in near_ids
    client.post(
        "/v1/match/batch?as_of=2025-06-01",
        json={"profiles": [FULL_PROFILE, {"county": "nowhere"}]},
        headers=auth("match"),
    )
    assert metric(client, matched) == before + 2
    assert metric(client, near) == before_near + 2
    latency = 'http_request_duration_seconds_count{handler="/v1/match",method="POST"}'
    assert metric(client, latency) >= 1
    by_template = (
        'http_requests_total{handler="/v1/measures/{measure_id}",method="GET",status="404"}'
    )
    seen = metric(client, by_template)
    client.get("/v1/measures/no-such-measure")
    assert metric(client, by_template) == seen + 1
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


@pytest.fixture
def pushing(empty_database: str) -> Any:
    """A service on its own database (each backend) that retries fast."""
    upgrade_database(empty_database)
    with serve(empty_database, **FAST) as service:
        yield service


def test_metrics_show_the_outbox_depth_and_failed_deliveries(
    pushing: TestClient, auth: Token, receiver: Receiver
) -> None:
    receiver.behaviour = lambda n, event_id: 503 if n == 1 else 204
    subscribe(pushing, auth, receiver)
    put(pushing, auth, firm())
    pending = states(pushing)["pending"]
    assert pending > 0
    assert metric(fresh(pushing), 'policy_match_push_deliveries{state="pending"}') == pending
    assert metric(pushing, "policy_match_push_oldest_pending_seconds") >= 0
    retries = PUSH_ATTEMPTS.labels("retry")._value.get()
    deliver_until(worker_for(pushing), lambda: states(pushing).get("pending", 0) == 0)
    assert metric(fresh(pushing), 'policy_match_push_deliveries{state="pending"}') == 0
    assert metric(pushing, 'policy_match_push_deliveries{state="delivered"}') == pending
    assert metric(pushing, 'policy_match_push_attempts_total{outcome="retry"}') == retries + pending


def test_a_request_id_is_taken_or_made_and_returned(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "gw-2026-11-27.0001"})
    assert given.headers["x-request-id"] == "gw-2026-11-27.0001"
    made = client.get("/healthz").headers["x-request-id"]
    assert len(made) == 32 and made != client.get("/healthz").headers["x-request-id"]
    hostile = client.get("/healthz", headers={"X-Request-ID": "x" * 200})
    assert hostile.headers["x-request-id"] != "x" * 200
    oversized = client.post(
        "/v1/match", content=b"{}", headers={"Content-Length": str(10**9), "X-Request-ID": "big-1"}
    )
    assert oversized.status_code == 413 and oversized.headers["x-request-id"] == "big-1"


@pytest.mark.slow
def test_the_running_service_logs_json_lines_with_request_ids_and_a_masked_decision_log(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'logs.db'}"
    upgrade_database(url)
    port = free_port()
    secret = TEST_SETTINGS.jwt_secret.get_secret_value() if TEST_SETTINGS.jwt_secret else ""
    env = {
        **os.environ,
        "POLICY_MATCH_DATABASE_URL": url,
        "POLICY_MATCH_JWT_SECRET": secret,
        "POLICY_MATCH_ENVIRONMENT": "test",
        "POLICY_MATCH_PUSH_WORKER_IN_PROCESS": "false",
    }
    log = (tmp_path / "stdout.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port), "--no-migrate"],
        env=env,
        stdout=log,
        stderr=subprocess.DEVNULL,  # the catalogue check's report
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        token, _ = issue_token(
            subject="platform-7", scopes=["match"], bank_id=None, settings=TEST_SETTINGS
        )
        answer = httpx.post(
            f"{base}/v1/match",
            json=FULL_PROFILE,
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-42"},
        )
        assert answer.status_code == 200
        second = {**FULL_PROFILE, "uscc": new_uscc(), "tier": "municipal"}
        batch = httpx.post(
            f"{base}/v1/match/batch?view=compact",
            json={"profiles": [FULL_PROFILE, second]},
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-43"},
        )
        assert batch.status_code == 200
        httpx.get(f"{base}/v1/enterprises/{FULL_PROFILE['uscc']}")  # 401, path logged masked
        scraped = httpx.get(f"{base}/metrics").text  # the served application's own registry
        assert 'http_request_duration_seconds_count{handler="/v1/match",method="POST"} 1.0' in (
            scraped
        )
        assert 'http_requests_total{handler="/v1/match",method="POST",status="200"} 1.0' in scraped
        assert "http_request_size_bytes" not in scraped  # only the metrics chosen
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
    output = (tmp_path / "stdout.log").read_text(encoding="utf-8")
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]  # all JSON
    decision = next(e for e in lines if e["logger"] == "policy_match.decisions")
    assert decision["request_id"] == "req-42" and decision["caller"] == "platform-7"
    assert decision["uscc"] == FULL_PROFILE["uscc"][:8] + "*" * 9 + FULL_PROFILE["uscc"][17]
    assert decision["matched"] == [m["measure_id"] for m in answer.json()["matched"]]
    assert decision["near_misses"] == [m["measure_id"] for m in answer.json()["near_misses"]]
    # a batch writes a line per profile, in order, each with its request's id
    batched = [e for e in lines if e.get("request_id") == "req-43" and "matched" in e]
    assert [e["matched"] for e in batched] == [r["matched"] for r in batch.json()["results"]]
    assert batched[1]["tier"] == "municipal" and batched[0]["ts"] <= batched[1]["ts"]
    access = [e for e in lines if e["logger"] == "policy_match.access"]
    assert {
        "method": "POST",
        "path": "/v1/match",
        "status": 200,
        "request_id": "req-42",
    }.items() <= (next(e for e in access if e["path"] == "/v1/match").items())
    assert any(e["status"] == 401 and "*********" in e["path"] for e in access)
    assert FULL_PROFILE["uscc"] not in output and FULL_PROFILE["name"] not in output
    assert all({"ts", "level", "logger", "message"} <= e.keys() for e in lines)
