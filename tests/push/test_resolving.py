"""Name resolution is bounded (issue 14): a resolver that does not answer in time makes the host
unresolved now, at subscription and at delivery, and the threads left waiting on it are few."""

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.core.migrate import upgrade_database
from service.push import lookup
from service.push.subscriptions import Unresolvable, _resolved, resolve
from tests.conftest import Token, serve
from tests.factories import FAST, FEW, firm, put, worker_for
from tests.receiver import Receiver

SLOW = "slow.example"


class StuckResolver:
    """The system's resolver, with `slow.example` answering only once `answer` is set."""

    def __init__(self) -> None:
        self.answer = threading.Event()
        self.asked = 0


@pytest.fixture
def stuck(monkeypatch: pytest.MonkeyPatch) -> Iterator[StuckResolver]:
    """socket.getaddrinfo (the OS boundary) stuck on `slow.example` until released."""
    real = socket.getaddrinfo
    state = StuckResolver()

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in (SLOW, SLOW.encode()):
            return real(host, *args, **kwargs)
        state.asked += 1
        state.answer.wait(30)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    _resolved.clear()
    yield state
    state.answer.set()  # the lingering threads finish
    deadline = time.monotonic() + 5
    while lookup.lingering() and time.monotonic() < deadline:
        time.sleep(0.01)
    _resolved.clear()


def test_a_resolver_that_does_not_answer_in_time_leaves_the_host_unresolved(
    stuck: StuckResolver,
) -> None:
    started = time.perf_counter()
    with pytest.raises(Unresolvable, match=r"no answer from the resolver in 0\.2 s"):
        asyncio.run(resolve(SLOW, 443, timeout=0.2))
    assert time.perf_counter() - started < 1.5
    assert stuck.asked == 1 and lookup.lingering() == 1  # its thread waits on, alone


def test_the_threads_left_waiting_on_the_resolver_are_bounded(
    stuck: StuckResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lookup, "LINGERING", 2)

    async def three() -> list[BaseException]:
        outcomes = await asyncio.gather(
            *(lookup.getaddrinfo(SLOW, 443, timeout=0.2) for _ in range(3)),
            return_exceptions=True,
        )
        return [o for o in outcomes if isinstance(o, BaseException)]

    failures = asyncio.run(three())
    assert len(failures) == 3 and all(isinstance(f, lookup.LookupTimeout) for f in failures)
    assert stuck.asked == 2  # the third started no thread
    assert sum("still waiting" in str(f) for f in failures) == 1
    assert lookup.lingering() == 2
    stuck.answer.set()
    deadline = time.monotonic() + 5
    while lookup.lingering():
        assert time.monotonic() < deadline, "the threads never finished"
        time.sleep(0.01)


def test_subscribing_does_not_wait_on_a_resolver_past_the_setting(
    tmp_path: Path, auth: Token, stuck: StuckResolver
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade_database(url)
    with serve(url, push_allow_internal_targets=False, push_resolve_timeout_seconds=0.3) as client:
        started = time.perf_counter()
        answer = client.post(
            "/v1/subscriptions", json={"url": f"https://{SLOW}/hooks"}, headers=auth("push")
        )
        elapsed = time.perf_counter() - started
    # accepted as a host that does not resolve yet; each delivery checks it again
    assert answer.status_code == 201, answer.text
    assert elapsed < 2.0 and stuck.asked == 1


def test_the_default_bound_is_two_seconds() -> None:
    from service.core.settings import Settings

    assert Settings().push_resolve_timeout_seconds == 2.0


def test_a_delivery_whose_host_does_not_resolve_in_time_notes_it_unresolved(
    service: TestClient, auth: Token, receiver: Receiver, stuck: StuckResolver
) -> None:
    created = service.post(
        "/v1/subscriptions", json={"url": f"http://{SLOW}:8080/hooks"}, headers=auth("push")
    ).json()
    put(service, auth, firm(**FEW))
    worker = worker_for(  # one round of attempts: the retries come due later
        service,
        push_resolve_timeout_seconds=0.2,
        push_backoff_base_seconds=60,
        push_backoff_cap_seconds=60,
    )
    started = time.perf_counter()
    asyncio.run(worker.drain())
    assert time.perf_counter() - started < FAST["push_timeout_seconds"] * 3
    shown = service.get(f"/v1/subscriptions/{created['id']}", headers=auth("push")).json()
    # noted only for a `dns` failure (a `timeout` proves nothing): pausing applies from here
    assert shown["state"] == "active" and shown["unresolved_since"] is not None
