"""End-to-end attacks on the service over HTTP, each of which must be refused as problem+json.

Tokens are forged here, with python-jose or by hand (base64url segments and an HMAC), never
with the service's own issuer, so that a test does not trust the code it attacks. Each family
of attacks also has a control: the same request with an honest token is accepted, so that a
refusal is the attack's doing and not a broken fixture.

- the token: `alg: none`, forged or stripped signatures, another secret, RS256/HS256 key
  confusion, foreign keys and embedded JWKs, time claims, audience, issuer, claim types, size,
  payloads that are not JSON objects, schemes other than Bearer;
- a bank's remit (SQLite and PostgreSQL): no enterprise record, no push feed or subscription,
  only its own consenting firms and only four fields in the bank query, finance measures only;
- push targets: cloud metadata, loopback and credentials in subscription URLs.
"""

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from httpx import Response
from jose import jwk, jwt

from service.api.clients import Scope
from service.core.migrate import upgrade_database
from service.policy.examples import FULL_PROFILE
from tests.conftest import TEST_SETTINGS, serve
from tests.factories import PROBLEM, b64, firm, new_uscc
from tests.keys import rsa_key_pair

assert TEST_SETTINGS.jwt_secret is not None
SECRET = TEST_SETTINGS.jwt_secret.get_secret_value()
AUDIENCE = TEST_SETTINGS.jwt_audience
ISSUER = "https://idp.jiangmen.gov.cn"
PLATFORM_SCOPES = "match enterprises:read enterprises:write push eligibility:read"
EVERY_SCOPE = " ".join(sorted(Scope))
LOAN = "loan-interest-subsidy"


_, PRIVATE_PEM, PUBLIC_PEM = rsa_key_pair()
_, ATTACKER_PRIVATE_PEM, ATTACKER_PUBLIC_PEM = rsa_key_pair()
PUBLIC_DER = serialization.load_pem_public_key(PUBLIC_PEM.encode()).public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
)


# --- forging tokens ------------------------------------------------------------------------


def claims(**changes: Any) -> dict[str, Any]:
    """Honest platform claims, valid now, with changes (None removes a claim)."""
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "attacker",
        "scope": PLATFORM_SCOPES,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,  # every token differs: no answer comes from the token cache
    }
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def hs256(payload: dict[str, Any], key: str = SECRET, **headers: Any) -> str:
    """A token signed HS256 with python-jose."""
    return jwt.encode(payload, key, algorithm="HS256", headers=headers or None)


def rs256(payload: dict[str, Any], key: str = PRIVATE_PEM, **headers: Any) -> str:
    """A token signed RS256 with python-jose."""
    return jwt.encode(payload, key, algorithm="RS256", headers=headers or None)


def by_hand(header: dict[str, Any], payload: bytes, key: bytes | None) -> str:
    """A token assembled by hand: HMAC-SHA256 over the segments with `key`, or no signature."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(payload)}"
    if key is None:
        return f"{signing_input}."
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def with_payload(token: str, payload: dict[str, Any]) -> str:
    """The token with its payload replaced and its header and signature kept."""
    head, _, signature = token.split(".")
    return f"{head}.{b64(json.dumps(payload).encode())}.{signature}"


def bearer(token: str) -> dict[str, str]:
    """The Authorization header carrying this token."""
    return {"Authorization": f"Bearer {token}"}


USCC = new_uscc()
# The token attacks are made on two kinds of route: the direct Starlette route of matching,
# and a FastAPI route whose token is checked by a dependency.
ENDPOINTS = {
    "match": ("POST", "/v1/match", 200),
    "enterprise": ("GET", f"/v1/enterprises/{USCC}", 404),  # valid token, firm not stored
}


def call(client: TestClient, endpoint: str, headers: dict[str, str]) -> Response:
    """The endpoint's request with these headers."""
    method, path, _ = ENDPOINTS[endpoint]
    response: Response = client.request(method, path, headers=headers, json=_body(method))
    return response


def _body(method: str) -> dict[str, Any] | None:
    return {"county": "440781"} if method == "POST" else None


def accepted(client: TestClient, endpoint: str, token: str) -> None:
    """The control: an honest token gets the endpoint's ordinary answer."""
    response = call(client, endpoint, bearer(token))
    assert response.status_code == ENDPOINTS[endpoint][2], response.text


def refused(response: Response, status: int, detail: str = "") -> dict[str, Any]:
    """The response is a problem+json refusal with this status whose detail holds `detail`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and {"type", "title", "detail"} <= set(body), body
    assert detail in body["detail"], body
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer"), response.headers
    return body


def attack(client: TestClient, endpoint: str, token: str, detail: str = "") -> None:
    """The endpoint refuses this bearer token with 401."""
    refused(call(client, endpoint, bearer(token)), 401, detail)


@pytest.fixture(scope="module")
def service_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database for the services configured differently from the default."""
    url = f"sqlite:///{tmp_path_factory.mktemp('security') / 'policy_match.db'}"
    upgrade_database(url)
    return url


@pytest.fixture(scope="module")
def rs256_service(service_database: str) -> Iterator[TestClient]:
    """The service verifying RS256 tokens with a public key (no token endpoint)."""
    with serve(service_database, jwt_public_key=PUBLIC_PEM, enable_token_endpoint=False) as client:
        yield client


@pytest.fixture(scope="module")
def issuer_service(service_database: str) -> Iterator[TestClient]:
    """The service that requires tokens from ISSUER."""
    with serve(service_database, jwt_issuer=ISSUER) as client:
        yield client


# --- 1. unsigned tokens --------------------------------------------------------------------

UNSIGNED_FORMS: dict[str, Callable[[str], str]] = {
    "two segments": lambda alg: by_hand({"alg": alg, "typ": "JWT"}, _payload(), None)[:-1],
    "empty signature": lambda alg: by_hand({"alg": alg, "typ": "JWT"}, _payload(), None),
    "junk signature": lambda alg: by_hand({"alg": alg}, _payload(), None) + b64(b"junk"),
    # the right HMAC over a header that says none: the header's algorithm is still refused
    "valid hmac": lambda alg: by_hand({"alg": alg, "typ": "JWT"}, _payload(), SECRET.encode()),
}


def _payload(**changes: Any) -> bytes:
    return json.dumps(claims(**changes)).encode()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("form", UNSIGNED_FORMS)
@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_tokens_are_refused(
    client: TestClient, endpoint: str, form: str, alg: str
) -> None:
    token = UNSIGNED_FORMS[form](alg)
    detail = "well-formed" if form == "two segments" else "not accepted"
    attack(client, endpoint, token, detail)


# --- 2. forged signatures ------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_honest_hs256_token_is_accepted(client: TestClient, endpoint: str) -> None:
    accepted(client, endpoint, hs256(claims()))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_payload_with_widened_scope_under_the_original_signature_is_refused(
    client: TestClient, endpoint: str
) -> None:
    original = hs256(claims(scope="audit:read"))
    attack(client, endpoint, with_payload(original, claims(scope=EVERY_SCOPE)), "signature")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_bank_token_with_bank_id_removed_under_the_original_signature_is_refused(
    client: TestClient, endpoint: str
) -> None:
    bank = claims(scope=EVERY_SCOPE, bank_id="bank-a")
    original = hs256(bank)
    platform = {k: v for k, v in bank.items() if k != "bank_id"}
    attack(client, endpoint, with_payload(original, platform), "signature")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "key", ["another-secret-that-is-long-enough-0001", SECRET + "x", SECRET[:-1], ""]
)
def test_a_token_signed_with_another_hmac_secret_is_refused(
    client: TestClient, endpoint: str, key: str
) -> None:
    token = by_hand({"alg": "HS256", "typ": "JWT"}, _payload(), key.encode())
    attack(client, endpoint, token, "signature")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_token_with_its_signature_stripped_is_refused(client: TestClient, endpoint: str) -> None:
    head, payload, _ = hs256(claims()).split(".")
    attack(client, endpoint, f"{head}.{payload}.", "signature")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_rs256_token_is_refused_where_hs256_is_configured(
    client: TestClient, endpoint: str
) -> None:
    attack(client, endpoint, rs256(claims(), ATTACKER_PRIVATE_PEM), "accepts HS256")


# --- 3. the RS256 configuration --------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_honest_rs256_token_is_accepted(rs256_service: TestClient, endpoint: str) -> None:
    accepted(rs256_service, endpoint, rs256(claims()))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "key",
    [
        PUBLIC_PEM.encode(),
        PUBLIC_PEM.strip().encode(),
        PUBLIC_PEM.replace("\n", "\\n").encode(),  # as a one-line environment variable
        PUBLIC_DER,
    ],
    ids=["pem", "pem-stripped", "pem-one-line", "der"],
)
def test_hs256_signed_with_the_public_key_is_refused(
    rs256_service: TestClient, endpoint: str, key: bytes
) -> None:
    token = by_hand({"alg": "HS256", "typ": "JWT"}, _payload(), key)
    attack(rs256_service, endpoint, token, "accepts RS256")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_hs256_signed_with_the_old_secret_is_refused_under_rs256(
    rs256_service: TestClient, endpoint: str
) -> None:
    attack(rs256_service, endpoint, hs256(claims()), "accepts RS256")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_alg_none_is_refused_under_rs256(
    rs256_service: TestClient, endpoint: str, alg: str
) -> None:
    attack(rs256_service, endpoint, by_hand({"alg": alg}, _payload(), None), "not accepted")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_rs256_signed_by_another_key_is_refused(rs256_service: TestClient, endpoint: str) -> None:
    attack(rs256_service, endpoint, rs256(claims(), ATTACKER_PRIVATE_PEM), "signature")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_rs256_with_the_attackers_key_embedded_as_jwk_is_refused(
    rs256_service: TestClient, endpoint: str
) -> None:
    embedded = jwk.construct(ATTACKER_PUBLIC_PEM, "RS256").to_dict()
    token = rs256(claims(), ATTACKER_PRIVATE_PEM, jwk=embedded, kid="attacker")
    attack(rs256_service, endpoint, token, "signature")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_rs256_with_a_widened_payload_under_the_original_signature_is_refused(
    rs256_service: TestClient, endpoint: str
) -> None:
    original = rs256(claims(scope="audit:read", bank_id="bank-a"))
    attack(rs256_service, endpoint, with_payload(original, claims(scope=EVERY_SCOPE)), "signature")


# --- 4. time ---------------------------------------------------------------------------------


def _now() -> int:
    return int(time.time())


TIME_ATTACKS: dict[str, tuple[Callable[[], dict[str, Any]], str]] = {
    "expired": (lambda: claims(exp=_now() - 1), "token expired"),
    # the leeway is for nbf and iat only: an expired token is never given grace
    "expired within leeway": (lambda: claims(exp=_now() - 20), "token expired"),
    "expired long ago": (lambda: claims(iat=0, nbf=0, exp=1), "token expired"),
    "nbf beyond leeway": (lambda: claims(nbf=_now() + 120, exp=_now() + 600), "not valid yet"),
    "nbf far future": (lambda: claims(nbf=_now() + 86_400, exp=_now() + 90_000), "not valid yet"),
    "iat far future": (lambda: claims(iat=_now() + 3600, exp=_now() + 7200), "not valid yet"),
    "no exp": (lambda: claims(exp=None), "exp"),
    "exp as text": (lambda: claims(exp=str(_now() + 600)), "exp"),
    "exp null": (lambda: {**claims(), "exp": None}, "exp"),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", TIME_ATTACKS)
def test_tokens_out_of_their_time_are_refused(client: TestClient, endpoint: str, case: str) -> None:
    make, detail = TIME_ATTACKS[case]
    attack(client, endpoint, hs256(make()), detail)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_nbf_within_the_leeway_is_accepted(client: TestClient, endpoint: str) -> None:
    accepted(client, endpoint, hs256(claims(nbf=_now() + 10)))


# --- 5. audience and issuer --------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "aud",
    [
        "another-service",
        ["another-service"],
        ["another-service", "third"],
        [],
        "",
        AUDIENCE.upper(),
        AUDIENCE + " ",
    ],
)
def test_a_token_for_another_audience_is_refused(
    client: TestClient, endpoint: str, aud: Any
) -> None:
    attack(client, endpoint, hs256(claims(aud=aud)), "audience")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_token_without_an_audience_is_refused(client: TestClient, endpoint: str) -> None:
    attack(client, endpoint, hs256(claims(aud=None)), "aud")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_token_from_the_configured_issuer_is_accepted(
    issuer_service: TestClient, endpoint: str
) -> None:
    accepted(issuer_service, endpoint, hs256(claims(iss=ISSUER)))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "iss",
    ["https://evil.example", ISSUER + "/", ISSUER.upper(), "", None],
    ids=["other", "trailing-slash", "upper-case", "empty", "missing"],
)
def test_a_token_from_another_issuer_is_refused(
    issuer_service: TestClient, endpoint: str, iss: str | None
) -> None:
    attack(issuer_service, endpoint, hs256(claims(iss=iss)), f"token issuer is not {ISSUER}")


# --- claims of the wrong type ------------------------------------------------------------------

CLAIM_ATTACKS: dict[str, tuple[dict[str, Any], str]] = {
    "scope as a list": ({"scope": ["match", "enterprises:read"]}, "scope"),
    "bank_id as a list": ({"bank_id": ["bank-a", "bank-b"]}, "bank_id"),
    "bank_id as a number": ({"bank_id": 1}, "bank_id"),
    "empty sub": ({"sub": ""}, "sub"),
    "aud as a number": ({"aud": 1}, "aud"),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", CLAIM_ATTACKS)
def test_claims_of_the_wrong_type_are_refused(client: TestClient, endpoint: str, case: str) -> None:
    changes, detail = CLAIM_ATTACKS[case]
    attack(client, endpoint, hs256(claims(**changes)), detail)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_token_without_sub_is_refused(client: TestClient, endpoint: str) -> None:
    attack(client, endpoint, hs256(claims(sub=None)), "sub")


# --- 10. size, payloads that are not claims, other schemes ---------------------------------------

MAX_TOKEN_CHARS = 8192


def _padded_token(total: int) -> str:
    """An honestly signed token of exactly `total` characters (padding in a claim)."""
    pad = 0
    while True:
        token = hs256(claims(jti="p" * 32, pad="x" * pad))
        if len(token) >= total:
            break
        pad += max(1, (total - len(token)) * 3 // 4)
    while len(token) > total:  # base64 moves in steps of 4 characters per 3 bytes
        pad -= 1
        token = hs256(claims(jti="p" * 32, pad="x" * pad))
    assert len(token) <= total
    return token


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_token_longer_than_the_limit_is_refused(client: TestClient, endpoint: str) -> None:
    token = _padded_token(MAX_TOKEN_CHARS + 100)
    assert len(token) > MAX_TOKEN_CHARS
    attack(client, endpoint, token, "too long")
    attack(client, endpoint, hs256(claims(pad="x" * 100_000)), "too long")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_token_just_within_the_limit_is_accepted(client: TestClient, endpoint: str) -> None:
    token = _padded_token(MAX_TOKEN_CHARS)
    assert MAX_TOKEN_CHARS - 4 <= len(token) <= MAX_TOKEN_CHARS
    accepted(client, endpoint, token)


PAYLOAD_ATTACKS = {
    "not json": (b"this is not json", "not JSON"),
    "truncated json": (json.dumps(claims())[:-5].encode(), "not JSON"),
    "not utf-8": (b"\xff\xfe\xfd", "not JSON"),
    "a json array": (json.dumps([claims()]).encode(), "not a JSON object"),
    "a json string": (json.dumps("match").encode(), "not a JSON object"),
    "json null": (b"null", "not a JSON object"),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", PAYLOAD_ATTACKS)
def test_a_signed_payload_that_is_not_a_json_object_is_refused(
    client: TestClient, endpoint: str, case: str
) -> None:
    payload, detail = PAYLOAD_ATTACKS[case]
    token = by_hand({"alg": "HS256", "typ": "JWT"}, payload, SECRET.encode())
    attack(client, endpoint, token, detail)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "token",
    ["not-a-jwt", "a.b.c", "...", "e30.e30.e30", "%%%.%%%.%%%", "a.b.c.d.e"],
)
def test_a_garbage_token_is_refused(client: TestClient, endpoint: str, token: str) -> None:
    attack(client, endpoint, token)


def _basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "header",
    [
        lambda token: _basic("demo-platform:demo-platform-secret-0001"),
        lambda token: _basic(f"{token}:"),
        lambda token: f"Basic {token}",
        lambda token: f"Token {token}",
        lambda token: f"JWT {token}",
        lambda token: token,
        lambda token: f"Bearer {token} {token}",
        lambda token: f"Bearer {token},{token}",
        lambda token: "Bearer",
        lambda token: "Bearer  ",
    ],
    ids=[
        "basic-client-secret",
        "basic-token",
        "basic-raw-token",
        "token-scheme",
        "jwt-scheme",
        "no-scheme",
        "two-tokens",
        "comma-tokens",
        "bearer-alone",
        "bearer-blank",
    ],
)
def test_an_authorization_header_other_than_one_bearer_token_is_refused(
    client: TestClient, endpoint: str, header: Callable[[str], str]
) -> None:
    # the token inside is valid: only the way it is presented is wrong
    response = call(client, endpoint, {"Authorization": header(hs256(claims()))})
    refused(response, 401)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_token_in_the_query_string_or_a_cookie_is_not_a_bearer_token(
    client: TestClient, endpoint: str
) -> None:
    method, path, _ = ENDPOINTS[endpoint]
    token = hs256(claims())
    in_query = client.request(method, path, params={"access_token": token}, json=_body(method))
    refused(in_query, 401, "missing bearer token")
    client.cookies.set("access_token", token)
    try:
        refused(client.request(method, path, json=_body(method)), 401, "missing bearer token")
    finally:
        client.cookies.clear()


# --- 6. a bank outside its remit (SQLite and PostgreSQL) ----------------------------------------


def token_headers(scope: str = PLATFORM_SCOPES, bank_id: str | None = None) -> dict[str, str]:
    """Authorization for an honest token with these scopes (and bank_id)."""
    return bearer(hs256(claims(scope=scope, bank_id=bank_id)))


def bank_id() -> str:
    """A bank id of its own for one test."""
    return f"bank-{uuid.uuid4().hex[:8]}"


def store(client: TestClient, **changes: Any) -> dict[str, Any]:
    """A firm stored by the platform (the full example profile under a fresh credit code)."""
    body = firm(**changes)
    response = client.put(f"/v1/enterprises/{body['uscc']}", json=body, headers=token_headers())
    assert response.status_code == 201, response.text
    return body


def _bank_requests(uscc: str, own: str, fresh: str) -> dict[str, tuple[str, str, dict[str, Any]]]:
    # the PUT would have the firm consent to the bank and cut its revenue
    profile = {**FULL_PROFILE, "uscc": uscc, "bank_consents": [own], "revenue_cny": 1}
    return {
        "read": ("GET", f"/v1/enterprises/{uscc}", {}),
        "matches": ("GET", f"/v1/enterprises/{uscc}/matches", {}),
        "history": ("GET", f"/v1/enterprises/{uscc}/history", {}),
        "store": ("PUT", f"/v1/enterprises/{uscc}", {"json": profile}),
        "create": ("PUT", f"/v1/enterprises/{fresh}", {"json": {"county": "440781"}}),
        "delete": ("DELETE", f"/v1/enterprises/{uscc}", {}),
        "push events": ("GET", "/v1/push-events", {}),
        "subscribe": ("POST", "/v1/subscriptions", {"json": {"url": "https://bank.example/h"}}),
        "subscriptions": ("GET", "/v1/subscriptions", {}),
    }


BANK_REQUESTS = list(_bank_requests(USCC, "x", USCC))


@pytest.mark.parametrize("request_name", BANK_REQUESTS)
def test_a_bank_with_every_scope_is_refused_enterprise_records_and_push(
    registry: TestClient, request_name: str
) -> None:
    own = bank_id()
    firm = store(registry, bank_consents=[own])  # it even consented to this bank
    fresh = new_uscc()
    method, path, body = _bank_requests(firm["uscc"], own, fresh)[request_name]
    response = registry.request(method, path, headers=token_headers(EVERY_SCOPE, own), **body)
    refused(response, 403, "banks may not")

    # nothing was read out, written or deleted
    platform = token_headers()
    stored = registry.get(f"/v1/enterprises/{firm['uscc']}", headers=platform)
    assert (stored.status_code, stored.headers["etag"]) == (200, '"1"')
    assert stored.json() == firm
    versions = registry.get(f"/v1/enterprises/{firm['uscc']}/history", headers=platform)
    assert [v["changed_by"] for v in versions.json()["items"]] == ["attacker"]
    assert registry.get(f"/v1/enterprises/{fresh}", headers=platform).status_code == 404
    subscriptions = registry.get("/v1/subscriptions", headers=platform).json()["items"]
    assert "https://bank.example/h" not in [s["url"] for s in subscriptions]


# --- 7. the bank query shows a bank only its own consenting firms, four fields each ------------


def bank_query(
    client: TestClient, measure_id: str, bank: str, params: dict[str, Any] | None = None
) -> tuple[Response, list[dict[str, Any]]]:
    """One bank's answer for a measure (every page) and the firms in it."""
    path = f"/v1/measures/{measure_id}/eligible-enterprises"
    headers = token_headers("eligibility:read", bank)
    response = client.get(path, params={"limit": 500, **(params or {})}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None  # this test's banks see only this test's few firms
    return response, body["items"]


def test_a_bank_sees_only_firms_that_consented_to_it(registry: TestClient) -> None:
    bank_a, bank_b = bank_id(), bank_id()
    firms_a = {store(registry, bank_consents=[bank_a], name=f"A{n}")["uscc"] for n in range(3)}
    firms_b = {store(registry, bank_consents=[bank_b], name=f"B{n}")["uscc"] for n in range(2)}
    store(registry)  # eligible, consented to no bank
    store(registry, bank_consents=[bank_b], has_bank_loan=False)  # consented, not eligible

    response, answer_b = bank_query(registry, LOAN, bank_b)
    assert {e["uscc"] for e in answer_b} == firms_b
    assert not firms_a & {e["uscc"] for e in answer_b}
    assert set(response.json()) == {
        "measure_id",
        "as_of",
        "catalogue_version",
        "items",
        "next_cursor",
    }
    for enterprise in answer_b:
        assert set(enterprise) == {"uscc", "name", "county", "tier"}, enterprise
        assert enterprise["name"].startswith("B")
    assert bank_b not in response.text and "revenue" not in response.text

    _, answer_a = bank_query(registry, LOAN, bank_a)
    assert {e["uscc"] for e in answer_a} == firms_a


def test_a_bank_cannot_ask_as_another_bank_through_the_query_string(
    registry: TestClient,
) -> None:
    bank_a, bank_b = bank_id(), bank_id()
    firm_a = store(registry, bank_consents=[bank_a])["uscc"]
    for params in ({"bank_id": bank_a}, {"bank": bank_a}, {"bank_id": ""}):
        _, answer = bank_query(registry, LOAN, bank_b, params)
        assert firm_a not in {e["uscc"] for e in answer}


def test_a_bank_token_with_an_empty_bank_id_sees_no_firm(registry: TestClient) -> None:
    store(registry)  # eligible, consented to no bank
    store(registry, bank_consents=[bank_id()])
    assert bank_query(registry, LOAN, "")[1] == []


# --- 8. a bank asks only about finance measures ----------------------------------------------


@pytest.mark.parametrize(
    "measure_id",
    ["key-little-giant-funding", "land-approval-green-channel", "little-giant-funding"],
)
def test_a_bank_asking_about_a_non_finance_measure_is_403(
    registry: TestClient, measure_id: str
) -> None:
    bank = bank_id()
    store(registry, bank_consents=[bank], key_little_giant=True, tier="little_giant")
    response = registry.get(
        f"/v1/measures/{measure_id}/eligible-enterprises",
        headers=token_headers(EVERY_SCOPE, bank),
    )
    refused(response, 403, "finance")
    # a refused question is not answered, so nothing was disclosed
    records = registry.get(
        "/v1/disclosures", params={"bank_id": bank}, headers=token_headers("audit:read")
    )
    assert records.status_code == 200 and records.json()["items"] == []


# --- 9. push targets -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded(database: str) -> Iterator[TestClient]:
    """The service as deployed: internal push targets refused (on each backend)."""
    with serve(database, push_allow_internal_targets=False) as client:
        yield client


METADATA_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://100.100.100.200/",
    "http://metadata.google.internal/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fd00:ec2::254]/",
    "http://169.254.170.2/v2/credentials",  # ECS task credentials
    "http://metadata.google.internal./computeMetadata/v1/",
    "http://METADATA.GOOGLE.INTERNAL/",
    "http://[::ffff:a9fe:a9fe]/",  # 169.254.169.254 mapped, written in hex
    "https://169.254.169.254:443/",
    "http://2852039166/",  # 169.254.169.254 as one decimal number
    "http://0xa9.0xfe.0xa9.0xfe/",  # 169.254.169.254 in hex parts
]
LOOPBACK_URLS = [
    "http://127.0.0.1:8000/",
    "http://127.1/",
    "http://localhost:8000/",
    "http://[::1]:8000/",
    "http://0.0.0.0:8000/",
    "http://2130706433/",  # 127.0.0.1 as one decimal number
]
CREDENTIAL_URLS = [
    "https://user:pw@example.org/",
    "https://user@example.org/",
    "https://:pw@example.org/",
    "http://example.org@169.254.169.254/",
]


def _subscriptions(client: TestClient) -> int:
    return len(client.get("/v1/subscriptions", headers=token_headers("push")).json()["items"])


def _refused_target(client: TestClient, url: str) -> None:
    before = _subscriptions(client)
    response = client.post("/v1/subscriptions", json={"url": url}, headers=token_headers("push"))
    body = refused(response, 422, "$.url")
    assert "$.url" in [e["field"] for e in body["errors"]], body
    assert _subscriptions(client) == before


@pytest.mark.parametrize("url", METADATA_URLS + LOOPBACK_URLS + CREDENTIAL_URLS)
def test_a_subscription_to_an_internal_or_metadata_target_is_422(
    guarded: TestClient, url: str
) -> None:
    _refused_target(guarded, url)


@pytest.mark.parametrize("url", CREDENTIAL_URLS[:3])
def test_credentials_in_a_subscription_url_are_refused_even_where_internal_targets_are_allowed(
    registry: TestClient, url: str
) -> None:
    _refused_target(registry, url)


def test_an_ordinary_public_target_is_accepted(guarded: TestClient) -> None:
    response = guarded.post(
        "/v1/subscriptions",
        json={"url": "https://platform.example.cn/hooks/policy-match"},
        headers=token_headers("push"),
    )
    assert response.status_code == 201, response.text
