"""A subscription whose host does not resolve is noted, then paused (fed nothing, its pending
deliveries cancelled), and resumed by its subscriber, who catches up from the feed."""

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.core.migrate import upgrade_database
from service.push.subscriptions import _resolved
from tests.conftest import Token, serve
from tests.factories import FAST, FEW, feed_ids, firm, put, states, worker_for
from tests.receiver import Receiver

PAUSE = 0.5  # PUSH_UNRESOLVED_PAUSE_SECONDS here; a day by default


class Dns:
    """The system's resolver, with `gone.example` resolving only while `up`."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.up = False


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> Iterator[Dns]:
    """`gone.example` resolves to the loopback receiver while `dns.up`, else not at all."""
    real = socket.getaddrinfo
    state = Dns(int(receiver.url.split(":")[2].split("/")[0]))

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("gone.example", b"gone.example"):
            return real(host, *args, **kwargs)
        if not state.up:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", state.port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    _resolved.clear()
    yield state
    _resolved.clear()


@pytest.fixture
def service(empty_database: str) -> Iterator[TestClient]:
    """The service, pausing after PAUSE seconds unresolved."""
    upgrade_database(empty_database)
    with serve(empty_database, **FAST, push_unresolved_pause_seconds=PAUSE) as client:
        yield client


def shown(client: TestClient, auth: Token, subscription_id: str) -> dict[str, Any]:
    """GET /v1/subscriptions/{id}."""
    answer: dict[str, Any] = client.get(
        f"/v1/subscriptions/{subscription_id}", headers=auth("push")
    ).json()
    return answer


def test_an_unresolved_host_is_paused_then_resumed_and_caught_up(
    service: TestClient, auth: Token, receiver: Receiver, dns: Dns
) -> None:
    port = dns.port
    created = service.post(
        "/v1/subscriptions",
        json={"url": f"http://gone.example:{port}/hooks"},
        headers=auth("push"),
    ).json()
    receiver.secrets.append(created["secret"])
    sub = created["id"]
    put(service, auth, firm(**FEW))
    first = feed_ids(service, auth)
    worker = worker_for(  # retries come due in 25 to 100 ms, and never run out here
        service, push_max_attempts=50, push_backoff_base_seconds=0.05
    )

    asyncio.run(worker.drain())  # the host does not resolve: noted
    noted = shown(service, auth, sub)
    assert noted["state"] == "active" and noted["unresolved_since"] is not None
    dns.up = True  # it resolves again: the note is cleared
    time.sleep(0.15)  # the retries come due
    asyncio.run(worker.drain())
    assert shown(service, auth, sub)["unresolved_since"] is None
    assert len(receiver.event_ids()) == len(first), states(service)

    dns.up = False
    _resolved.clear()
    put(service, auth, firm(**FEW))
    missed = feed_ids(service, auth)[len(first) :]
    deadline = time.monotonic() + 10
    while shown(service, auth, sub)["state"] == "active":
        assert time.monotonic() < deadline, "never paused"
        asyncio.run(worker.drain())
        time.sleep(0.1)
    paused = shown(service, auth, sub)
    assert paused["paused_at"] and str(len(missed)) in paused["paused_reason"]
    assert paused["deliveries"]["pending"] == 0
    assert paused["deliveries"]["cancelled"] == len(missed)

    put(service, auth, firm(**FEW))  # while paused: no delivery is written for it
    assert states(service).get("pending", 0) == 0
    resume = f"/v1/subscriptions/{sub}/resume"
    refused = service.post(resume, headers=auth("push"))  # still does not resolve
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert shown(service, auth, sub)["state"] == "paused"
    redelivery = service.post(
        f"/v1/push-events/{missed[0]}/redeliver",
        params={"subscription_id": sub},
        headers=auth("push"),
    )
    assert redelivery.status_code == 409

    dns.up = True
    resumed = service.post(resume, headers=auth("push"))
    assert resumed.status_code == 200, resumed.text
    body = resumed.json()
    assert body["state"] == "active" and body["paused_reason"] is None
    assert body["unresolved_since"] is None
    caught_up = service.get(
        "/v1/push-events",
        params={"after": body["catch_up_cursor"], "limit": 1000},
        headers=auth("push"),
    ).json()["items"]
    assert [e["event_id"] for e in caught_up] == feed_ids(service, auth)[len(first) :]
    assert service.post(resume, headers=auth("push")).status_code == 200  # idempotent

    put(service, auth, firm(**FEW))  # fed again from now on
    latest = feed_ids(service, auth)[-len(missed) :]
    deadline = time.monotonic() + 10  # an attempt that times out on a busy machine is retried
    while not set(latest) <= set(receiver.event_ids()):
        assert time.monotonic() < deadline, states(service)
        asyncio.run(worker.drain())
        time.sleep(0.05)


def test_resume_refuses_ended_and_unknown_subscriptions(service: TestClient, auth: Token) -> None:
    created = service.post(
        "/v1/subscriptions", json={"url": "https://a.example.cn/h"}, headers=auth("push")
    ).json()
    path = f"/v1/subscriptions/{created['id']}"
    assert service.post(f"{path}/resume", headers=auth("push")).status_code == 200  # active
    service.delete(path, headers=auth("push"))
    assert service.post(f"{path}/resume", headers=auth("push")).status_code == 409
    missing = service.post("/v1/subscriptions/sub_none/resume", headers=auth("push"))
    assert missing.status_code == 404
    assert service.post(f"{path}/resume", headers=auth("match")).status_code == 403


def test_the_openapi_document_shows_the_pause(service: TestClient) -> None:
    document = service.get("/openapi.json").json()
    assert "post" in document["paths"]["/v1/subscriptions/{subscription_id}/resume"]
    shape = document["components"]["schemas"]["SubscriptionOut"]["properties"]
    assert "paused" in shape["state"]["enum"]
    assert {"paused_reason", "paused_at", "unresolved_since", "catch_up_cursor"} <= set(shape)
