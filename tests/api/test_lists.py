"""Issue 14 over HTTP, on SQLite and PostgreSQL: one shape for every list, signed cursors
(tampered, foreign and expired ones refused), ETags with 304, and errors that hold everywhere."""

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.core.cursors import CursorKeys, cursor_keys, cursor_owner
from service.core.settings import Settings
from tests.conftest import Token
from tests.factories import firm, put

LOAN = "/v1/measures/loan-interest-subsidy/eligible-enterprises"
ELIGIBLE = {"tier": "provincial", "tier_valid_until": "2026-12-31", "has_bank_loan": True}

CHINESE = {"Accept-Language": "zh-Hans"}


def seal(
    client: TestClient, position: dict[str, Any], scope: str, owner: str = "", **kw: Any
) -> str:
    """A cursor signed with the service's own keys (as if the service had given it out)."""
    keys: CursorKeys = client.app.state.cursor_keys  # type: ignore[attr-defined]
    return keys.seal(position, scope=scope, caller=owner, **kw)


def refused(answer: Any, parameter: str) -> None:
    """The answer is the 400 for a cursor, naming its parameter."""
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/bad-cursor")
    assert answer.json()["errors"][0]["field"] == parameter


def test_every_list_has_one_shape(registry: TestClient, auth: Token) -> None:
    bank = f"bank-{time.monotonic_ns()}"
    body = firm(**ELIGIBLE, bank_consents=[bank])
    put(registry, auth, body)
    every = auth(
        "push",
        "audit:read",
        "enterprises:read",
        "catalogue:admin",
        "stats:read",
    )
    lists = {
        "/v1/measures": every,
        "/v1/departments": every,
        "/v1/vocabularies": every,
        "/v1/subscriptions": every,
        "/v1/push-events": every,
        "/v1/disclosures": every,
        "/v1/catalogue/rematches": every,
        "/v1/plan/progress": every,
        f"/v1/enterprises/{body['uscc']}/history": every,
        LOAN: auth("eligibility:read", bank_id=bank),
    }
    for path, headers in lists.items():
        answer = registry.get(path, headers=headers)
        assert answer.status_code == 200, (path, answer.text)
        shown = answer.json()
        assert isinstance(shown["items"], list) and "next_cursor" in shown, path
    document = registry.get("/openapi.json").json()
    for path in lists:
        template = path.replace(body["uscc"], "{uscc}").replace(
            "loan-interest-subsidy", "{measure_id}"
        )
        schema = document["paths"][template]["get"]["responses"]["200"]["content"]
        ref = schema["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        properties = document["components"]["schemas"][ref]["properties"]
        assert {"items", "next_cursor"} <= properties.keys(), path


def test_a_bank_cannot_edit_the_day_in_its_cursor(registry: TestClient, auth: Token) -> None:
    bank = f"bank-{time.monotonic_ns()}"
    for _ in range(2):
        put(registry, auth, firm(**ELIGIBLE, bank_consents=[bank]))
    headers = auth("eligibility:read", bank_id=bank)
    first = registry.get(LOAN, params={"limit": 1}, headers=headers).json()
    cursor = first["next_cursor"]
    assert registry.get(LOAN, params={"cursor": cursor}, headers=headers).status_code == 200
    payload, tag = cursor.split(".")
    import base64
    import json

    inside = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    inside["p"]["d"] = "2019-01-01"
    edited = base64.urlsafe_b64encode(json.dumps(inside).encode()).decode().rstrip("=")
    refused(registry.get(LOAN, params={"cursor": f"{edited}.{tag}"}, headers=headers), "cursor")
    # another bank, or another caller of the same bank, cannot use it
    other = auth("eligibility:read", bank_id=f"{bank}-other")
    refused(registry.get(LOAN, params={"cursor": cursor}, headers=other), "cursor")
    stranger = auth("eligibility:read", bank_id=bank, subject="another-bank-client")
    refused(registry.get(LOAN, params={"cursor": cursor}, headers=stranger), "cursor")


def test_an_expired_cursor_is_refused(registry: TestClient, auth: Token) -> None:
    bank = f"bank-{time.monotonic_ns()}"
    headers = auth("eligibility:read", bank_id=bank)
    position = {"d": "2026-01-05", "a": "91440781MA4W6K2L1C"}
    owner = cursor_owner("test-suite", bank)
    fresh = seal(
        registry, position, "/v1/measures/loan-interest-subsidy/eligible-enterprises", owner
    )
    assert registry.get(LOAN, params={"cursor": fresh}, headers=headers).status_code == 200
    old = seal(registry, position, LOAN, owner, now=time.time() - 25 * 3600)
    answer = registry.get(LOAN, params={"cursor": old}, headers=headers)
    refused(answer, "cursor")
    assert "expired" in answer.json()["detail"]


def test_feed_history_and_disclosure_cursors_are_signed(registry: TestClient, auth: Token) -> None:
    headers = auth("push", "audit:read", "enterprises:read")
    body = firm()
    put(registry, auth, body)
    put(registry, auth, {**body, "employees": 11})
    feed = registry.get("/v1/push-events", params={"limit": 1}, headers=headers).json()
    tampered = feed["next_cursor"][:-2] + ("AA" if not feed["next_cursor"].endswith("AA") else "BB")
    refused(registry.get("/v1/push-events", params={"after": tampered}, headers=headers), "after")
    stranger = auth("push", subject="another-platform-client")
    given = {"after": feed["next_cursor"]}
    refused(registry.get("/v1/push-events", params=given, headers=stranger), "after")
    # the feed's cursor does not expire: one sealed a year ago still resumes
    mine = cursor_owner("test-suite")
    old = seal(registry, {"e": 0}, "/v1/push-events", mine, lifetime=None, now=time.time() - 3e7)
    assert (
        registry.get("/v1/push-events", params={"after": old}, headers=headers).status_code == 200
    )
    path = f"/v1/enterprises/{body['uscc']}/history"
    first = registry.get(path, params={"limit": 1}, headers=headers).json()
    elsewhere = f"/v1/enterprises/{firm()['uscc']}/history"
    put(registry, auth, {**firm(), "uscc": elsewhere.split("/")[3]})
    refused(
        registry.get(elsewhere, params={"cursor": first["next_cursor"]}, headers=headers), "cursor"
    )
    other = auth("enterprises:read", subject="another-platform-client")
    refused(registry.get(path, params={"cursor": first["next_cursor"]}, headers=other), "cursor")
    refused(
        registry.get("/v1/disclosures", params={"cursor": "eyJiIjo0Mn0"}, headers=headers), "cursor"
    )


def test_keys_rotate_and_default_to_one_derived_from_the_jwt_secret() -> None:
    old, new = "an-old-cursor-key-0001", "a-new-cursor-key-00002"
    given = cursor_keys(Settings(cursor_keys=f"{old}"))
    rotated = cursor_keys(Settings(cursor_keys=f"{new},{old}"))
    cursor = given.seal({"e": 1}, scope="s")
    assert rotated.open(cursor, parameter="after", scope="s", required=frozenset({"e"})) == {"e": 1}
    assert rotated.seal({"e": 1}, scope="s") != cursor  # the first key signs
    derived = cursor_keys(Settings(jwt_secret="s" * 32))
    assert derived == cursor_keys(Settings(jwt_secret="s" * 32)) != cursor_keys(Settings())
    assert derived.keys[0] != b"s" * 32
    with pytest.raises(ValueError, match="16 characters"):
        Settings(cursor_keys="short")


def test_catalogue_reads_carry_an_etag_and_answer_304(client: TestClient) -> None:
    # the suite's client asks for English; these reads are in Chinese, then in English
    for path in (
        "/v1/measures",
        "/v1/measures?finance=true",
        "/v1/measures/loan-interest-subsidy",
        "/v1/departments",
        "/v1/vocabularies",
    ):
        answer = client.get(path, headers=CHINESE)
        etag = answer.headers["etag"]
        assert etag.startswith('"') and answer.headers["x-catalogue-version"] in etag
        again = client.get(path, headers={**CHINESE, "If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag and again.headers["vary"] == "Accept-Language"
        weak = {**CHINESE, "If-None-Match": f"W/{etag}"}
        assert client.get(path, headers=weak).status_code == 304
        english = client.get(path, headers={"Accept-Language": "en", "If-None-Match": etag})
        assert english.status_code == 200 and english.headers["etag"] != etag
        assert client.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_an_enterprise_read_answers_304_until_it_changes(registry: TestClient, auth: Token) -> None:
    body = firm()
    put(registry, auth, body)
    path, read = f"/v1/enterprises/{body['uscc']}", auth("enterprises:read")
    etag = registry.get(path, headers=read).headers["etag"]
    unchanged = registry.get(path, headers={**read, "If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    put(registry, auth, {**body, "employees": 12})
    changed = registry.get(path, headers={**read, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_malformed_json_is_one_type_everywhere(client: TestClient, auth: Token) -> None:
    bad = {"Content-Type": "application/json"}
    headers = auth("match", "enterprises:write", "push", **bad)
    types = {
        client.post("/v1/match", content=b"{nope", headers=headers).json()["type"],
        client.post("/v1/match/batch", content=b"{nope", headers=headers).json()["type"],
        client.put("/v1/enterprises/91440781MA4W6K2L1C", content=b"{nope", headers=headers).json()[
            "type"
        ],
        client.post("/v1/subscriptions", content=b"{nope", headers=headers).json()["type"],
    }
    assert len(types) == 1 and types.pop().endswith("/malformed-json")


def test_a_problem_names_the_request_in_instance(client: TestClient) -> None:
    given = client.get("/v1/measures/free-money", headers={"X-Request-ID": "gw-7.1"})
    assert given.json()["instance"] == "gw-7.1"
    for refused_here in (
        client.get("/v1/nowhere", headers={"X-Request-ID": "gw-7.2"}),
        client.post(
            "/v1/auth/token", data={"grant_type": "password"}, headers={"X-Request-ID": "gw-7.2"}
        ),
        client.get("/v1/measures", params={"kind": "bogus"}, headers={"X-Request-ID": "gw-7.2"}),
    ):
        assert refused_here.json()["instance"] == "gw-7.2", refused_here.text
    made = client.get("/v1/measures/free-money")
    request_id = made.headers["x-request-id"]
    assert made.json()["instance"] == f"urn:uuid:{request_id[:8]}-{request_id[8:12]}-" + (
        f"{request_id[12:16]}-{request_id[16:20]}-{request_id[20:]}"
    )


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/measures", {"kind": "bogus"}, "kind"),
        ("/v1/measures", {"department": "bogus"}, "department"),
        ("/v1/measures", {"clause": "九(九)9"}, "clause"),
        ("/v1/measures", {"in_force_on": "notadate"}, "in_force_on"),
        ("/v1/measures", {"finance": "perhaps"}, "finance"),
        ("/v1/push-events", {"county": "999999"}, "county"),
        ("/v1/push-events", {"kind": "bogus"}, "kind"),
        ("/v1/push-events", {"limit": "abc"}, "limit"),
        ("/v1/disclosures", {"limit": "abc"}, "limit"),
        ("/v1/enterprises/91440781MA4W6K2L1C/history", {"limit": "abc"}, "limit"),
        ("/v1/enterprises/91440781MA4W6K2L1C/matches", {"as_of": "notadate"}, "as_of"),
        ("/v1/plan/progress", {"county": "999999"}, "county"),
        ("/v1/plan/progress", {"as_of": "notadate"}, "as_of"),
        (LOAN, {"limit": "abc"}, "limit"),
    ],
)
def test_every_bad_query_parameter_is_422(
    client: TestClient, auth: Token, path: str, params: dict[str, str], field: str
) -> None:
    headers = auth("push", "audit:read", "enterprises:read", "stats:read", "eligibility:read")
    answer = client.get(path, params=params, headers=headers)
    assert answer.status_code == 422, answer.text
    assert any(e["field"].startswith(field) for e in answer.json()["errors"])
