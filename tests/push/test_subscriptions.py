"""Subscriptions over HTTP: made with a secret shown once, filters and target URLs checked."""

import base64
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.core.migrate import upgrade_database
from service.push.local_addresses import ipv6_addresses, read_local_addresses
from service.push.subscriptions import TargetRefused, check_addresses, split_target
from tests.conftest import Token, serve

PUSH = "push"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The service as deployed: internal targets refused."""
    url = f"sqlite:///{tmp_path_factory.mktemp('guarded') / 'db.sqlite'}"
    upgrade_database(url)
    with serve(url, push_allow_internal_targets=False) as client:
        yield client


def subscribe(client: TestClient, auth: Token, **body: object) -> dict[str, object]:
    """POST /v1/subscriptions, which must succeed."""
    response = client.post("/v1/subscriptions", json=body, headers=auth(PUSH))
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    assert response.headers["location"] == f"/v1/subscriptions/{created['id']}"
    return created


def test_a_subscription_is_made_with_a_secret_shown_once(registry: TestClient, auth: Token) -> None:
    created = subscribe(
        registry, auth, url="https://platform.example.cn/hook", counties=["440781", "440703"]
    )
    secret = str(created["secret"])
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert created["counties"] == ["440703", "440781"] and created["kinds"] is None
    assert created["state"] == "active" and created["created_by"] == "test-suite"

    read = registry.get(f"/v1/subscriptions/{created['id']}", headers=auth(PUSH)).json()
    assert "secret" not in read
    assert read["deliveries"] == {"pending": 0, "delivered": 0, "dead": 0, "cancelled": 0}
    listed = registry.get("/v1/subscriptions", headers=auth(PUSH)).json()["items"]
    assert created["id"] in [s["id"] for s in listed]
    assert all("secret" not in s for s in listed)
    other = subscribe(registry, auth, url="https://platform.example.cn/hook")
    assert other["secret"] != secret


def test_deleting_ends_it_and_says_who(registry: TestClient, auth: Token) -> None:
    created = subscribe(registry, auth, url="https://platform.example.cn/hook")
    path = f"/v1/subscriptions/{created['id']}"
    assert registry.delete(path, headers=auth(PUSH)).status_code == 204
    ended = registry.get(path, headers=auth(PUSH)).json()
    assert ended["state"] == "ended" and ended["ended_reason"] == "deleted by test-suite"
    assert registry.delete(path, headers=auth(PUSH)).status_code == 204  # idempotent
    missing = registry.get("/v1/subscriptions/sub_nothing", headers=auth(PUSH))
    assert missing.status_code == 404
    assert registry.delete("/v1/subscriptions/sub_nothing", headers=auth(PUSH)).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://a.example.cn/h", "counties": ["440781", "110000"]}, "$.counties[1]"),
        ({"url": "https://a.example.cn/h", "kinds": ["no_such_kind"]}, "$.kinds[0]"),
        ({"url": "https://a.example.cn/h", "counties": []}, "$.counties"),
        ({"url": "https://a.example.cn/h", "secret": "mine"}, "$.secret"),
        ({"counties": ["440781"]}, "$.url"),
        ({"url": "ftp://files.example.cn/drop"}, "$.url"),
        ({"url": "https://user:pw@a.example.cn/h"}, "$.url"),
        ({"url": "https:///no-host"}, "$.url"),
        ({"url": "http://a..b/hook"}, "$.url"),  # each of these three was a 500 (UnicodeError)
        ({"url": "http://.example/hook"}, "$.url"),
        ({"url": f"http://{'a' * 64}.example.cn/hook"}, "$.url"),
        ({"url": f"http://{'a.' * 127}cn/hook"}, "$.url"),  # 255 characters in all
    ],
)
def test_bad_subscriptions_are_422_naming_the_field(
    registry: TestClient, auth: Token, body: dict[str, object], field: str
) -> None:
    before = len(registry.get("/v1/subscriptions", headers=auth(PUSH)).json()["items"])
    response = registry.post("/v1/subscriptions", json=body, headers=auth(PUSH))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    after = len(registry.get("/v1/subscriptions", headers=auth(PUSH)).json()["items"])
    assert after == before


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://100.100.100.200/latest/meta-data/",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
    ],
)
def test_internal_and_metadata_targets_are_refused(
    guarded: TestClient, auth: Token, url: str
) -> None:
    response = guarded.post("/v1/subscriptions", json={"url": url}, headers=auth(PUSH))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "$.url"


def test_this_hosts_own_addresses_are_refused(guarded: TestClient, auth: Token) -> None:
    """Private, so allowed by range, but the service's own: the attempt log would map its
    ports. Every non-loopback address of this machine is refused."""
    own = [a for a in read_local_addresses() if not a.is_loopback and not a.is_link_local]
    assert ipaddress.ip_address("127.0.0.1") in read_local_addresses()  # the ioctl works
    if not own:
        pytest.skip("this machine has no address but loopback and link-local")
    for address in own:
        host = f"[{address}]" if address.version == 6 else str(address)
        response = guarded.post(
            "/v1/subscriptions", json={"url": f"http://{host}:8000/hook"}, headers=auth(PUSH)
        )
        assert response.status_code == 422, response.text
        assert "an address of this host" in response.json()["errors"][0]["message"]


def test_ipv6_interface_addresses_are_read_from_the_kernels_table() -> None:
    table = (
        "fd000000000000000000000000000002 04 40 00 82     eth0\n"
        "00000000000000000000000000000001 01 80 10 80       lo\n"
    )
    assert ipv6_addresses(table) == {ipaddress.ip_address("fd00::2"), ipaddress.ip_address("::1")}


def test_private_network_targets_are_allowed(guarded: TestClient, auth: Token) -> None:
    subscribe(guarded, auth, url="http://10.20.30.40:8080/hook")  # the government network
    subscribe(guarded, auth, url="https://192.168.1.10/hook")


def test_a_setting_allows_loopback_targets(registry: TestClient, auth: Token) -> None:
    subscribe(registry, auth, url="http://127.0.0.1:9/hook")


def test_refused_addresses_by_name_and_resolution() -> None:
    assert split_target("https://Platform.Example.CN./h") == ("platform.example.cn", 443)
    assert split_target("http://a.example.cn:8080/h") == ("a.example.cn", 8080)
    check_addresses("a.example.cn", ["203.0.113.7", "10.0.0.1"])  # public and private: fine
    for host, addresses in (
        ("a.example.cn", ["203.0.113.7", "127.0.0.2"]),  # one bad address is enough
        ("a.example.cn", ["fe80::1%eth0"]),
        ("a.example.cn", ["fd00:ec2::254"]),
        ("evil.localhost", []),
    ):
        with pytest.raises(TargetRefused):
            check_addresses(host, addresses)


def test_subscriptions_need_the_push_scope_and_refuse_banks(
    registry: TestClient, auth: Token
) -> None:
    body = {"url": "https://platform.example.cn/hook"}
    assert registry.post("/v1/subscriptions", json=body).status_code == 401
    assert registry.post("/v1/subscriptions", json=body, headers=auth("match")).status_code == 403
    bank = auth("push", bank_id="bank-demo-1")
    assert registry.post("/v1/subscriptions", json=body, headers=bank).status_code == 403
    assert registry.get("/v1/subscriptions", headers=bank).status_code == 403


def test_the_example_hosts_need_no_dns(tmp_path: Path, auth: Token) -> None:
    """A host internal DNS will know is accepted now; each delivery checks it again."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade_database(url)
    with serve(url, push_allow_internal_targets=False) as client:
        subscribe(client, auth, url="https://hooks.platform.invalid/policy-match")
