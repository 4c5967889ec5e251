"""/metrics during a database outage, and who may read it: the database's gauges are read in the
background and marked stale when the database does not answer; process and request metrics are
served whatever the database does; a token and an allow-list refuse everyone else."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from sqlalchemy import text

from service.core.migrate import upgrade_database
from service.core.settings import Settings
from service.main import create_app
from tests.conftest import TEST_SETTINGS, Token, serve
from tests.factories import engine_of, firm, put, refresh


def sample(body: str, name: str) -> float | None:
    """The value of the sample whose line starts with `name` (None: absent)."""
    for line in body.splitlines():
        if line.startswith(name) and line[len(name)] in ' {,"=':
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.fixture
def sqlite_service(tmp_path: Path) -> Iterator[TestClient]:
    """A service on a SQLite database of its own."""
    url = f"sqlite:///{tmp_path / 'metrics.db'}"
    upgrade_database(url)
    with serve(url) as client:
        yield client


def test_a_dropped_table_leaves_metrics_served_and_marked_stale(
    sqlite_service: TestClient, auth: Token
) -> None:
    client = sqlite_service
    client.post("/v1/subscriptions", json={"url": "https://a.example.cn/h"}, headers=auth("push"))
    assert put(client, auth, firm()).status_code == 201
    assert refresh(client)
    good = client.get("/metrics").text
    pending = sample(good, 'policy_match_push_deliveries{state="pending"}')
    assert pending and pending > 0
    assert sample(good, "policy_match_database_gauges_stale") == 0.0
    with engine_of(client).begin() as connection:
        connection.execute(text("ALTER TABLE push_delivery RENAME TO push_delivery_away"))
    assert not refresh(client)
    during = client.get("/metrics")
    assert during.status_code == 200
    assert sample(during.text, "policy_match_database_gauges_stale") == 1.0
    assert (sample(during.text, "policy_match_database_gauges_age_seconds") or -1) >= 0
    assert sample(during.text, 'policy_match_push_deliveries{state="pending"}') == pending  # kept
    assert (sample(during.text, "process_resident_memory_bytes") or 0) > 0
    assert sample(during.text, "http_requests_total") is not None
    with engine_of(client).begin() as connection:
        connection.execute(text("ALTER TABLE push_delivery_away RENAME TO push_delivery"))
    assert refresh(client)
    assert sample(client.get("/metrics").text, "policy_match_database_gauges_stale") == 0.0


def test_an_unreachable_database_still_answers_metrics_with_stale_gauges() -> None:
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=1"
    with serve(unreachable) as client:
        assert client.get("/healthz").status_code == 200
        assert not refresh(client)
        answer = client.get("/metrics")
        assert answer.status_code == 200
        assert sample(answer.text, "policy_match_database_gauges_stale") == 1.0
        assert sample(answer.text, "policy_match_database_gauges_age_seconds") == -1.0
        assert (sample(answer.text, "process_resident_memory_bytes") or 0) > 0
        assert sample(answer.text, 'http_requests_total{handler="/healthz"') == 1.0


def guarded(tmp_path: Path, peer: tuple[str, int], **settings: object) -> TestClient:
    """A service that guards /metrics, seen from `peer`."""
    url = f"sqlite:///{tmp_path / 'guarded.db'}"
    upgrade_database(url)
    app = create_app(TEST_SETTINGS.model_copy(update={"database_url": url, **settings}))
    return TestClient(app, client=peer)


def test_a_metrics_token_is_required_when_set(tmp_path: Path) -> None:
    token = SecretStr("scrape-token-0001-long-enough")
    with guarded(tmp_path, ("10.1.2.3", 4000), metrics_token=token) as client:
        missing = client.get("/metrics")
        assert missing.status_code == 401
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.headers["www-authenticate"].startswith("Bearer")
        wrong = client.get("/metrics", headers={"Authorization": "Bearer not-it"})
        assert wrong.status_code == 401
        right = client.get(
            "/metrics", headers={"Authorization": f"Bearer {token.get_secret_value()}"}
        )
        assert right.status_code == 200 and "policy_match_push_deliveries" in right.text
        assert client.get("/healthz").status_code == 200  # nothing else is guarded


@pytest.mark.slow
def test_metrics_are_refused_outside_the_allowed_ranges(tmp_path: Path) -> None:
    ranges = "10.0.0.0/8, 192.168.5.7"
    with guarded(tmp_path, ("172.16.0.9", 4000), metrics_allow_from=ranges) as outside:
        refused = outside.get("/metrics")
        assert refused.status_code == 403 and refused.json()["status"] == 403
    with guarded(tmp_path, ("10.200.0.1", 4000), metrics_allow_from=ranges) as inside:
        assert inside.get("/metrics").status_code == 200
    token = SecretStr("scrape-token-0001-long-enough")
    with guarded(
        tmp_path, ("10.200.0.1", 4000), metrics_allow_from=ranges, metrics_token=token
    ) as both:
        assert both.get("/metrics").status_code == 401  # inside, but no token
        assert (
            both.get("/metrics", headers={"Authorization": "Bearer scrape-token-0001-long-enough"})
        ).status_code == 200


def test_an_allow_list_that_is_not_cidr_ranges_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match=r"METRICS_ALLOW_FROM: 'ten\.0\.0\.0/8'"):
        Settings(metrics_allow_from="10.0.0.0/8,ten.0.0.0/8")
