"""Issue 11's ingress: bodies and heads a caller sends, checked against a real served process
(`policy-match serve`); and the small holes: If-Match digits, an unmigrated database, a bank
auditing, trusted proxies."""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bench.common import free_port, server_log, start_server, stop_server
from bench.hostile_ingress import (
    MIB,
    chunked_body,
    every_scope_token,
    huge_header,
    refused_unread,
    writes,
)
from bench.memory import memory_kib
from service.core.migrate import upgrade_database
from service.policy.examples import EXAMPLE_USCC, FULL_PROFILE
from tests.conftest import ENGLISH, Token, serve
from tests.factories import firm, put

BODY = 16 * MIB  # sent to every write; the served limit is 1 MiB
READS_BODY = [
    "/v1/match",
    "/v1/match/batch",
    f"/v1/enterprises/{EXAMPLE_USCC}",
    "/v1/subscriptions",
]


class Served:
    """A `policy-match serve` process on a migrated SQLite file."""

    def __init__(self, folder: Path, **settings: str) -> None:
        url = f"sqlite:///{folder / 'served.db'}"
        upgrade_database(url)
        self.port = free_port()
        self.process = start_server(
            self.port, database_url=url, push_worker_in_process="false", **settings
        )
        self.base = f"http://127.0.0.1:{self.port}"

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON lines it has logged so far."""
        text = server_log(self.process).read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    def access_line(self, request_id: str) -> dict[str, Any]:
        """The access line of a request, waited for: it is written after the answer is sent."""
        for _ in range(100):
            for line in self.log_lines():
                if line.get("request_id") == request_id and "client" in line:
                    return line
            time.sleep(0.05)
        raise AssertionError(f"no access line for {request_id}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The service as deployed, with the default limits but for a 1 MiB body."""
    server = Served(tmp_path_factory.mktemp("served"), max_body_bytes=str(MIB))
    yield server
    stop_server(server.process)


@pytest.mark.slow
def test_every_write_stops_reading_a_chunked_body_token_or_not(served: Served) -> None:
    routes = writes(served.port)
    assert len(routes) >= 6  # the OpenAPI document was read
    start = memory_kib(served.process.pid)["VmRSS"]
    for token in (None, every_scope_token()):
        for method, path in routes:
            refusal = chunked_body(served.port, method, path, BODY, token)
            assert refused_unread(refusal, BODY), refusal
            if path in READS_BODY and (token or path == "/v1/subscriptions"):
                assert refusal.status == 413, refusal  # FastAPI reads these before the token
    grown = memory_kib(served.process.pid)["VmHWM"] - start
    assert grown < 48 * 1024, f"peak RSS grew by {grown} KiB"


@pytest.mark.slow
def test_a_413_is_problem_json_and_a_declared_length_is_refused_unread(served: Served) -> None:
    token = every_scope_token()
    answer = httpx.post(
        f"{served.base}/v1/match",
        content=b"{" * (MIB + 1),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            **ENGLISH,
        },
    )
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["connection"] == "close"
    assert answer.json()["detail"] == f"the body may be at most {MIB} bytes"
    metrics = httpx.get(f"{served.base}/metrics").text.splitlines()
    counted = [x for x in metrics if 'handler="/v1/match"' in x and 'status="413"' in x]
    assert counted and all('method="POST"' in x for x in counted)  # the 413, as answered
    # a body within the limit, chunked, is read and answered as usual
    chunks = iter([json.dumps(FULL_PROFILE).encode()])
    fine = httpx.post(
        f"{served.base}/v1/match",
        content=chunks,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert fine.request.headers["transfer-encoding"] == "chunked"
    assert fine.status_code == 200, fine.text


@pytest.mark.slow
def test_a_huge_header_is_431_and_a_large_one_is_served(served: Served) -> None:
    refusal = huge_header(served.port, 16 * MIB)
    assert refusal.status == 431 and refusal.closed and refusal.sent < 16 * MIB, refusal
    padding = {"X-Padding": "a" * 60_000}  # under the 64 KiB default
    assert httpx.get(f"{served.base}/healthz", headers=padding).status_code == 200
    over = httpx.get(f"{served.base}/healthz", headers={"X-Padding": "a" * 70_000})
    assert over.status_code == 431
    assert over.json()["type"].endswith("/request-header-fields-too-large")


@pytest.mark.slow
def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    served: Served, tmp_path: Path
) -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Request-ID": "forwarded-default"}
    assert httpx.get(f"{served.base}/healthz", headers=forwarded).status_code == 200
    line = served.access_line("forwarded-default")
    assert line["client"] == "127.0.0.1"  # loopback is not trusted by default
    proxied = Served(tmp_path, trusted_proxies="127.0.0.1")
    try:
        forwarded["X-Request-ID"] = "forwarded-trusted"
        assert httpx.get(f"{proxied.base}/healthz", headers=forwarded).status_code == 200
        line = proxied.access_line("forwarded-trusted")
        assert line["client"] == "203.0.113.7"
    finally:
        stop_server(proxied.process)


# Read as latin-1 (as a served request's header bytes are), these are superscript digits, for
# which str.isdigit() is true and int() fails
@pytest.mark.slow
@pytest.mark.parametrize("tag", ['"²"', '"³", "1"', 'W/"¹"', '"1²"'])
def test_if_match_takes_ascii_digits_only(served: Served, tag: str) -> None:
    body = firm()
    url = f"{served.base}/v1/enterprises/{body['uscc']}"
    writer = {"Authorization": f"Bearer {every_scope_token()}"}
    assert httpx.put(url, json=body, headers=writer).status_code == 201
    headers = {**writer, "If-Match": tag.encode("latin-1")}
    answer = httpx.put(url, json={**body, "trademarks": 3}, headers=headers)  # type: ignore[arg-type]
    assert answer.status_code == (200 if '"1"' in tag else 412), answer.text


# --- in process ------------------------------------------------------------------------------


def test_a_bank_holding_audit_read_is_refused_the_disclosures(
    client: TestClient, auth: Token
) -> None:
    bank = client.get("/v1/disclosures", headers=auth("audit:read", bank_id="bank-demo-1"))
    assert bank.status_code == 403
    assert bank.json()["detail"].startswith("banks may not read the disclosure record")
    assert client.get("/v1/disclosures", headers=auth("audit:read")).status_code == 200


@pytest.mark.slow
def test_data_endpoints_on_an_unmigrated_database_are_503(empty_database: str, auth: Token) -> None:
    with serve(empty_database) as unmigrated:
        calls = [
            unmigrated.get(f"/v1/enterprises/{EXAMPLE_USCC}", headers=auth("enterprises:read")),
            put(unmigrated, auth, firm()),
            unmigrated.get(
                "/v1/measures/loan-interest-subsidy/eligible-enterprises",
                headers=auth("eligibility:read", bank_id="bank-demo-1"),
            ),
            unmigrated.get("/v1/disclosures", headers=auth("audit:read")),
            unmigrated.get("/v1/subscriptions", headers=auth("push")),
        ]
        for answer in calls:
            assert answer.status_code == 503, (answer.request.url, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            assert "alembic upgrade head" in answer.json()["detail"]
        assert unmigrated.get("/readyz").status_code == 503
