"""The registry over HTTP, on SQLite and PostgreSQL: store, read, history, matches, delete."""

from typing import cast

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.core.tables import CONSENT, ENTERPRISE
from service.policy.examples import FULL_PROFILE
from tests.conftest import Token
from tests.factories import WRITE, firm, new_uscc, put, wrong_check_digit


def test_store_creates_then_updates_and_keeps_every_version(
    registry: TestClient, auth: Token
) -> None:
    body = firm()
    created = put(registry, auth, body)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/v1/enterprises/{body['uscc']}"
    assert created.headers["etag"] == '"1"'
    assert created.json() == body

    again = put(registry, auth, body)
    assert (again.status_code, again.headers["etag"]) == (200, '"1"')  # idempotent

    changed = put(registry, auth, {**body, "employees": 321})
    assert (changed.status_code, changed.headers["etag"]) == (200, '"2"')
    read = registry.get(f"/v1/enterprises/{body['uscc']}", headers=auth("enterprises:read"))
    assert read.json()["employees"] == 321
    assert read.headers["etag"] == '"2"'

    versions = registry.get(
        f"/v1/enterprises/{body['uscc']}/history", headers=auth("enterprises:read")
    ).json()["items"]
    assert [(v["version"], v["action"]) for v in versions] == [(1, "created"), (2, "updated")]
    assert versions[0]["profile"] == body
    assert versions[1]["profile"]["employees"] == 321
    assert {v["changed_by"] for v in versions} == {"test-suite"}


def test_the_body_uscc_must_be_the_paths(registry: TestClient, auth: Token) -> None:
    body = firm()
    other = new_uscc()
    response = registry.put(f"/v1/enterprises/{other}", json=body, headers=auth(*WRITE))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "$.uscc"
    missing = registry.get(f"/v1/enterprises/{other}", headers=auth("enterprises:read"))
    assert missing.status_code == 404


def test_a_body_without_uscc_takes_the_paths(registry: TestClient, auth: Token) -> None:
    uscc = new_uscc()
    body = {k: v for k, v in FULL_PROFILE.items() if k != "uscc"}
    response = registry.put(f"/v1/enterprises/{uscc}", json=body, headers=auth(*WRITE))
    assert response.status_code == 201
    assert response.json()["uscc"] == uscc


def test_an_invalid_write_leaves_the_stored_profile_untouched(
    registry: TestClient, auth: Token
) -> None:
    body = firm()
    assert put(registry, auth, body).status_code == 201
    bad = put(registry, auth, {**body, "tier": "galactic", "employees": -1})
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert fields == {"$.tier", "$.employees"}
    read = registry.get(f"/v1/enterprises/{body['uscc']}", headers=auth("enterprises:read"))
    assert read.json() == body
    assert read.headers["etag"] == '"1"'


def test_a_bad_credit_code_in_the_path_is_named(registry: TestClient, auth: Token) -> None:
    wrong = wrong_check_digit(new_uscc())
    response = registry.get(f"/v1/enterprises/{wrong}", headers=auth("enterprises:read"))
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "uscc",
        "in": "path",
        "message": response.json()["errors"][0]["message"],
        "type": "uscc",
    }


def test_conditional_writes_refuse_a_stale_version(registry: TestClient, auth: Token) -> None:
    body = firm()
    assert put(registry, auth, body, **{"If-None-Match": "*"}).status_code == 201
    assert put(registry, auth, body, **{"If-None-Match": "*"}).status_code == 412
    assert put(registry, auth, {**body, "trademarks": 9}, **{"If-Match": '"1"'}).status_code == 200
    stale = put(registry, auth, {**body, "trademarks": 1}, **{"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    read = registry.get(f"/v1/enterprises/{body['uscc']}", headers=auth("enterprises:read"))
    assert read.json()["trademarks"] == 9
    absent = firm()
    assert put(registry, auth, absent, **{"If-Match": '"1"'}).status_code == 412
    assert (
        registry.get(
            f"/v1/enterprises/{absent['uscc']}", headers=auth("enterprises:read")
        ).status_code
        == 404
    )


def test_delete_removes_from_reads_but_keeps_the_history(registry: TestClient, auth: Token) -> None:
    body = firm()
    uscc = body["uscc"]
    put(registry, auth, body)
    assert (
        registry.delete(
            f"/v1/enterprises/{uscc}", headers=auth(*WRITE, **{"If-Match": '"7"'})
        ).status_code
        == 412
    )
    deleted = registry.delete(f"/v1/enterprises/{uscc}", headers=auth(*WRITE))
    assert deleted.status_code == 204
    for path in (f"/v1/enterprises/{uscc}", f"/v1/enterprises/{uscc}/matches"):
        assert registry.get(path, headers=auth("enterprises:read")).status_code == 404
    assert registry.delete(f"/v1/enterprises/{uscc}", headers=auth(*WRITE)).status_code == 404
    versions = registry.get(
        f"/v1/enterprises/{uscc}/history", headers=auth("enterprises:read")
    ).json()["items"]
    assert [(v["action"], v["profile"] is None) for v in versions] == [
        ("created", False),
        ("deleted", True),
    ]
    again = put(registry, auth, body)
    assert (again.status_code, again.headers["etag"]) == (201, '"3"')


def test_history_pages_and_404s_for_a_firm_never_stored(registry: TestClient, auth: Token) -> None:
    body = firm()
    for employees in (10, 20, 30):
        put(registry, auth, {**body, "employees": employees})
    path = f"/v1/enterprises/{body['uscc']}/history"
    first = registry.get(path, params={"limit": 2}, headers=auth("enterprises:read")).json()
    assert [v["version"] for v in first["items"]] == [1, 2]
    rest = registry.get(
        path, params={"cursor": first["next_cursor"]}, headers=auth("enterprises:read")
    ).json()
    assert [v["version"] for v in rest["items"]] == [3]
    assert rest["next_cursor"] is None
    never = registry.get(f"/v1/enterprises/{new_uscc()}/history", headers=auth("enterprises:read"))
    assert never.status_code == 404


def test_stored_matches_answer_like_match(registry: TestClient, auth: Token) -> None:
    body = firm()
    put(registry, auth, body)
    stored = registry.get(
        f"/v1/enterprises/{body['uscc']}/matches",
        params={"as_of": "2025-06-01"},
        headers=auth("enterprises:read", **{"Accept-Language": "en"}),
    )
    direct = registry.post(
        "/v1/match",
        params={"as_of": "2025-06-01"},
        json=body,
        headers=auth("match", **{"Accept-Language": "en"}),
    )
    assert stored.status_code == 200
    assert stored.json() == direct.json()
    assert stored.json()["matched"], "the example firm matches something"


def test_each_store_keeps_the_matches_and_consents(registry: TestClient, auth: Token) -> None:
    body = firm(bank_consents=["bank-a", "bank-b"])
    put(registry, auth, body)
    today_answer = registry.post("/v1/match", json=body, headers=auth("match")).json()
    engine = cast(FastAPI, registry.app).state.engine
    with engine.connect() as connection:
        row = connection.execute(
            select(ENTERPRISE.c.matched, ENTERPRISE.c.matched_catalogue_version).where(
                ENTERPRISE.c.uscc == body["uscc"]
            )
        ).one()
        banks = connection.execute(
            select(CONSENT.c.bank_id).where(CONSENT.c.uscc == body["uscc"])
        ).scalars()
        assert sorted(banks) == ["bank-a", "bank-b"]
    assert row.matched == [m["measure_id"] for m in today_answer["matched"]]
    assert row.matched_catalogue_version == today_answer["catalogue_version"]
    put(registry, auth, {**body, "bank_consents": []})
    with engine.connect() as connection:
        left = connection.execute(
            select(CONSENT.c.bank_id).where(CONSENT.c.uscc == body["uscc"])
        ).all()
    assert left == []


def test_banks_are_refused_on_every_enterprise_endpoint(registry: TestClient, auth: Token) -> None:
    body = firm()
    put(registry, auth, body)
    bank = auth("enterprises:read", "enterprises:write", "eligibility:read", bank_id="bank-a")
    base = f"/v1/enterprises/{body['uscc']}"
    answers = [
        registry.get(base, headers=bank),
        registry.get(f"{base}/history", headers=bank),
        registry.get(f"{base}/matches", headers=bank),
        registry.put(base, json=body, headers=bank),
        registry.delete(base, headers=bank),
    ]
    assert [a.status_code for a in answers] == [403] * 5
    assert "bank" in answers[0].json()["detail"]
    assert registry.get(base, headers=auth("enterprises:read")).status_code == 200


def test_tokens_and_scopes_are_required(registry: TestClient, auth: Token) -> None:
    body = firm()
    base = f"/v1/enterprises/{body['uscc']}"
    assert registry.put(base, json=body).status_code == 401
    assert registry.put(base, json=body, headers=auth("enterprises:read")).status_code == 403
    assert registry.get(base, headers=auth("match")).status_code == 403
    assert registry.delete(base, headers=auth("enterprises:read")).status_code == 403


def test_the_token_is_checked_before_the_credit_code(registry: TestClient, auth: Token) -> None:
    wrong = wrong_check_digit(new_uscc())
    base = f"/v1/enterprises/{wrong}"
    assert registry.get(base).status_code == 401
    assert registry.put(base, json=firm()).status_code == 401
    bank = auth("enterprises:read", "enterprises:write", bank_id="bank-a")
    for path in (base, f"{base}/history", f"{base}/matches"):
        assert registry.get(path, headers=bank).status_code == 403
    assert registry.delete(base, headers=bank).status_code == 403


def test_if_match_star_means_stored_and_dates_are_http_dates(
    registry: TestClient, auth: Token
) -> None:
    body = firm()
    assert put(registry, auth, body, **{"If-Match": "*"}).status_code == 412
    created = put(registry, auth, body)
    assert created.headers["last-modified"].endswith(" GMT")
    assert put(registry, auth, {**body, "trademarks": 0}, **{"If-Match": "*"}).status_code == 200
    huge = put(registry, auth, body, **{"If-Match": '"99999999999999999999"'})
    assert huge.status_code == 412
