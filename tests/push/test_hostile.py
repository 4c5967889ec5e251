"""Hostile receivers and resolvers (issue 11, items 2, 3, 4, 9b): an answer of 1 GiB is not read
whole, a dripping answer cannot hold an attempt past its deadline (two workers never POST one
delivery at once; a stopping worker does not wait on it), a rebinding resolver cannot steer a
POST onto loopback, TLS is verified against the host name, and the attempt log shows
categories, not raw connection errors."""

import asyncio
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.core.database import make_engine
from service.core.migrate import upgrade_database
from service.core.settings import PROJECT_ROOT, Settings
from service.core.tables import ATTEMPT, DELIVERY
from service.push.attempt_errors import EXPLANATIONS
from service.push.deliver import DeliveryWorker
from service.push.subscriptions import _resolved
from tests.conftest import Token, serve
from tests.factories import (
    FAST,
    FEW,
    deliver_until,
    detail,
    engine_of,
    feed_ids,
    firm,
    put,
    states,
    wait_until,
    worker_env,
    worker_for,
)
from tests.hostile import GIB, Hostile, hostile_receiver
from tests.receiver import Receiver, _handler


def subscribe_url(client: TestClient, auth: Token, url: str) -> str:
    """Subscribe a URL; its id."""
    response = client.post("/v1/subscriptions", json={"url": url}, headers=auth("push"))
    assert response.status_code == 201, response.text
    subscription_id: str = response.json()["id"]
    return subscription_id


def attempt_rows(client: TestClient) -> list[Any]:
    """Every recorded attempt."""
    with engine_of(client).connect() as connection:
        return list(connection.execute(select(ATTEMPT)).all())


def settled(hostile: Hostile) -> bool:
    """No POST is still open at the hostile receiver."""
    with hostile.lock:
        return not any(hostile.in_flight.values())


def test_an_answer_of_a_gibibyte_is_not_read_whole(service: TestClient, auth: Token) -> None:
    with hostile_receiver("huge") as huge:
        subscribe_url(service, auth, huge.url)
        put(service, auth, firm(**FEW))
        events = len(feed_ids(service, auth))
        asyncio.run(worker_for(service).drain())
        wait_until(lambda: settled(huge), 10, "the receiver to see its connections closed")
        assert states(service) == {"delivered": events}  # the 200 acknowledged each
        assert len(huge.event_ids) == events
        # at most the socket buffers' worth went out before the worker closed each connection
        assert huge.bytes_sent < events * 32 * 1024 * 1024 < events * GIB
    durations = [a.duration_ms for a in attempt_rows(service)]
    assert max(durations) < FAST["push_timeout_seconds"] * 1000  # not a timeout: it closed


@pytest.mark.slow
def test_a_dripping_receiver_never_gets_one_delivery_twice_at_once(
    service: TestClient, auth: Token
) -> None:
    """The report's case: a byte every 0.2 s kept each read alive, so an attempt outlived its
    claim's lease and the second worker POSTed the same delivery meanwhile."""
    settings = {
        "push_timeout_seconds": 1.0,
        "push_lease_seconds": 1.5,
        "push_poll_seconds": 0.1,
        "push_concurrency_per_target": 2,
    }
    with hostile_receiver("drip", interval=0.2) as drip:
        subscribe_url(service, auth, drip.url)
        put(service, auth, firm(**FEW))
        first = worker_for(service, "first", **settings)
        second = worker_for(service, "second", **settings)

        async def both_for(seconds: float) -> None:
            stop = asyncio.Event()
            tasks = [asyncio.create_task(w.run(stop)) for w in (first, second)]
            await asyncio.sleep(seconds)
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)

        asyncio.run(both_for(4.0))
        wait_until(lambda: settled(drip), 10, "every dripping POST to be closed")
        assert drip.overlaps == 0
        assert len(drip.event_ids) > len(set(drip.event_ids))  # it was tried again, in turn
    attempts = attempt_rows(service)
    assert attempts and {a.error for a in attempts} == {"timeout: no complete answer within 1 s"}
    assert max(a.duration_ms for a in attempts) < 1000 + 300  # one deadline, not per read


@pytest.mark.slow
def test_a_stopping_worker_cancels_what_it_is_sending_and_releases_it(
    empty_database: str, auth: Token
) -> None:
    """SIGTERM to `policy-match worker` while a receiver drips: it exits at once (not after
    PUSH_TIMEOUT_SECONDS), and the deliveries it held are due again now."""
    upgrade_database(empty_database)
    with hostile_receiver("drip", interval=0.5) as drip:
        with serve(empty_database) as client:
            subscribe_url(client, auth, drip.url)
            put(client, auth, firm(**FEW))
        env = worker_env(empty_database, push_timeout_seconds=60, push_lease_seconds=120)
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker", "--name", "stopping"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_until(lambda: bool(drip.event_ids), 30, "the first POST to start dripping")
            process.send_signal(signal.SIGTERM)
            asked = time.monotonic()
            assert process.wait(timeout=15) == 0, process.stderr and process.stderr.read()
            assert time.monotonic() - asked < 5  # not the 60 s deadline
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    engine = make_engine(empty_database)
    with engine.connect() as connection:
        rows = connection.execute(select(DELIVERY.c.state, DELIVERY.c.claim)).all()
    engine.dispose()
    assert rows and {(state, claim) for state, claim in rows} == {("pending", None)}


@pytest.fixture
def rebinding(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> Iterator[list[str]]:
    """The system's resolver made hostile: `rebind.example` is a public address the first
    time it is asked, and the loopback receiver's every time after. Yields the answers given."""
    real = socket.getaddrinfo
    port = int(receiver.url.split(":")[2].split("/")[0])
    answers: list[str] = []

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("rebind.example", b"rebind.example"):  # anyio asks in bytes
            return real(host, *args, **kwargs)
        address = "198.51.100.7" if not answers else "127.0.0.1"
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    _resolved.clear()
    yield answers
    _resolved.clear()


def test_a_rebinding_resolver_cannot_steer_a_post_onto_loopback(
    service: TestClient, auth: Token, receiver: Receiver, rebinding: list[str]
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    subscribe_url(service, auth, f"http://rebind.example:{port}/hooks")  # tests allow internal
    put(service, auth, firm(**FEW))
    guarded = worker_for(service, push_allow_internal_targets=False, push_timeout_seconds=0.3)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:  # retries come due every 0.1 s or so
        asyncio.run(guarded.drain())
        _resolved.clear()  # no cache to hide behind: every attempt asks the resolver again
        time.sleep(0.05)
    assert rebinding[0] == "198.51.100.7" and "127.0.0.1" in rebinding  # it did rebind
    assert receiver.received == []  # and nothing reached loopback
    errors = {a.error for a in attempt_rows(service)}
    categories = {e.split(":")[0] for e in errors}
    assert categories <= {"connect", "timeout", "refused_target"} and "refused_target" in categories
    assert not any("198.51" in e or str(port) in e for e in errors)  # no raw address or port


def test_a_refused_connection_is_shown_as_a_category_only(service: TestClient, auth: Token) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, not listening: connections are refused
        subscribe_url(service, auth, f"http://127.0.0.1:{port}/hooks")
        put(service, auth, firm(**FEW))
        asyncio.run(worker_for(service).drain())
    errors = {a.error for a in attempt_rows(service)}
    assert errors == {"connect: no connection could be made to the receiver"}
    with engine_of(service).connect() as connection:
        last = set(connection.execute(select(DELIVERY.c.last_error)).scalars())
    assert last == errors
    shown = detail(service, auth, feed_ids(service, auth)[0])["deliveries"][0]["attempt_log"][0]
    assert shown["category"] == "connect"
    assert shown["explanation"] == EXPLANATIONS["connect"]
    assert list(shown["explanation"]) == ["zh-Hans", "zh-Hant", "en"]


def test_delivery_workers_do_not_read_answers_through_a_proxy_or_redirect(
    service: TestClient, auth: Token, receiver: Receiver
) -> None:
    """A 307 to elsewhere is an answer (retried), not followed."""
    receiver.behaviour = lambda n, event_id: 307
    subscribe_url(service, auth, receiver.url)
    put(service, auth, firm(**FEW))
    worker: DeliveryWorker = worker_for(service)
    asyncio.run(worker.drain())
    assert {a.error for a in attempt_rows(service)} == {"HTTP 307"}


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for DNS name `name` only, and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "receiver.pem", folder / "receiver.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[Receiver, Path]]:
    """A receiver speaking TLS on 127.0.0.1 with a certificate for `localhost` only; and the
    certificate, to trust it with."""
    cert_file, key_file = self_signed(tmp_path, "localhost")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver := Receiver(url="")))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False
    )  # each handshake in its own handler thread
    receiver.url = f"https://localhost:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver, cert_file
    server.shutdown()
    server.server_close()


def test_tls_is_verified_against_the_host_name_on_a_pinned_connection(
    empty_database: str, auth: Token, tls_receiver: tuple[Receiver, Path]
) -> None:
    """The connection goes to the address resolved and checked, and the certificate is still
    checked against the URL's host: `localhost` verifies, the same server as 127.0.0.1 (no such
    name in its certificate) does not, and without the CA file nothing verifies."""
    receiver, cert_file = tls_receiver
    upgrade_database(empty_database)
    with serve(empty_database, **FAST, push_ca_file=cert_file) as client:
        by_name = client.post("/v1/subscriptions", json={"url": receiver.url}, headers=auth("push"))
        receiver.secrets.append(by_name.json()["secret"])
        by_address = receiver.url.replace("localhost", "127.0.0.1")
        subscribe_url(client, auth, by_address)
        put(client, auth, firm(**FEW))
        events = len(feed_ids(client, auth))
        patient = worker_for(client, push_timeout_seconds=5, push_lease_seconds=10)
        deliver_until(patient, lambda: len(set(receiver.event_ids())) == events)
        # every POST that arrived was the by-name subscription's (signed with its secret)
        assert len(receiver.event_ids()) == events and all(r.verified for r in receiver.received)
        errors = {a.error for a in attempt_rows(client)}
        assert None in errors and "tls: the TLS handshake or the certificate check failed" in errors
        untrusting = worker_for(client, push_ca_file=None)
        client.post(f"/v1/push-events/{feed_ids(client, auth)[0]}/redeliver", headers=auth("push"))
        asyncio.run(untrusting.drain())
        assert len(receiver.event_ids()) == events  # certifi's roots do not know it


def test_the_lease_must_outlast_an_attempts_deadline_with_a_margin() -> None:
    Settings(environment="test", push_timeout_seconds=10, push_lease_seconds=15)
    with pytest.raises(ValueError, match=r"1\.5 × PUSH_TIMEOUT_SECONDS"):
        Settings(environment="test", push_timeout_seconds=10, push_lease_seconds=14)
