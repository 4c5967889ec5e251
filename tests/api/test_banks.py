"""The bank query and its audit, on SQLite and PostgreSQL: consent, remit, pages, records."""

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Token
from tests.factories import firm, put

LOAN = "/v1/measures/loan-interest-subsidy/eligible-enterprises"


def bank() -> str:
    """A bank id of this test's own, so that tests sharing a database never meet."""
    return f"bank-{uuid.uuid4().hex[:8]}"


def eligible(**changes: Any) -> dict[str, Any]:
    """A firm eligible for the loan interest subsidy today (with changes)."""
    return firm(
        **{"tier": "provincial", "tier_valid_until": "2026-12-31", "has_bank_loan": True, **changes}
    )


def pages(client: TestClient, path: str, headers: dict[str, str], limit: int) -> list[str]:
    """Every credit code of a paged answer, following next_cursor."""
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [e["uscc"] for e in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def test_a_bank_sees_only_consenting_eligible_firms_and_four_fields(
    registry: TestClient, auth: Token
) -> None:
    mine, other = bank(), bank()
    shown = [eligible(bank_consents=[mine]), eligible(bank_consents=[other, mine])]
    undated = {k: v for k, v in eligible(bank_consents=[mine]).items() if k != "tier_valid_until"}
    hidden = [
        eligible(bank_consents=[other]),  # consented to another bank
        eligible(),  # consented to none
        eligible(bank_consents=[mine], has_bank_loan=False),  # not eligible
        eligible(bank_consents=[mine], tier_valid_until="2024-01-01"),  # recognition expired
        undated,  # the recognition's validity not given: undetermined, not eligible
    ]
    gone = eligible(bank_consents=[mine])
    for body in [*shown, *hidden, gone]:
        assert put(registry, auth, body).status_code == 201
    registry.delete(f"/v1/enterprises/{gone['uscc']}", headers=auth("enterprises:write"))

    answer = registry.get(LOAN, headers=auth("eligibility:read", bank_id=mine))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [e["uscc"] for e in body["items"]] == sorted(b["uscc"] for b in shown)
    assert all(set(e) == {"uscc", "name", "county", "tier"} for e in body["items"])
    assert body["measure_id"] == "loan-interest-subsidy" and body["next_cursor"] is None
    assert answer.headers["x-catalogue-version"] == body["catalogue_version"]


def test_a_bank_may_ask_only_about_finance_measures(registry: TestClient, auth: Token) -> None:
    headers = auth("eligibility:read", bank_id=bank())
    refused = registry.get(
        "/v1/measures/land-approval-green-channel/eligible-enterprises", headers=headers
    )
    assert refused.status_code == 403
    assert "finance" in refused.json()["detail"]
    unknown = registry.get("/v1/measures/no-such-measure/eligible-enterprises", headers=headers)
    assert unknown.status_code == 404
    assert registry.get(LOAN).status_code == 401
    assert registry.get(LOAN, headers=auth("match", bank_id="x")).status_code == 403


def test_the_platform_sees_every_eligible_firm_of_any_measure(
    registry: TestClient, auth: Token
) -> None:
    shown, hidden = eligible(), eligible(has_bank_loan=False)
    for body in (shown, hidden):
        put(registry, auth, body)
    seen = pages(registry, LOAN, auth("eligibility:read"), limit=500)
    assert shown["uscc"] in seen and hidden["uscc"] not in seen
    land = registry.get(
        "/v1/measures/land-approval-green-channel/eligible-enterprises",
        headers=auth("eligibility:read"),
    )
    assert land.status_code == 200


def test_keyset_pages_cover_every_firm_once(registry: TestClient, auth: Token) -> None:
    mine = bank()
    firms = sorted(eligible(bank_consents=[mine])["uscc"] for _ in range(7))
    for uscc in firms:
        put(registry, auth, {**eligible(bank_consents=[mine]), "uscc": uscc})
    headers = auth("eligibility:read", bank_id=mine)
    assert pages(registry, LOAN, headers, limit=3) == firms
    assert pages(registry, LOAN, headers, limit=1) == firms


def test_bad_page_parameters_are_named(registry: TestClient, auth: Token) -> None:
    headers = auth("eligibility:read", bank_id=bank())
    too_many = registry.get(LOAN, params={"limit": 501}, headers=headers)
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "limit"
    for cursor in ("not-a-cursor", "eyJ4IjoxfQ"):
        answer = registry.get(LOAN, params={"cursor": cursor}, headers=headers)
        assert answer.status_code == 400
        assert answer.json()["errors"][0]["field"] == "cursor"


def test_a_cursor_belongs_to_its_measure(registry: TestClient, auth: Token) -> None:
    mine = bank()
    for _ in range(2):
        put(registry, auth, eligible(bank_consents=[mine]))
    headers = auth("eligibility:read", bank_id=mine)
    first = registry.get(LOAN, params={"limit": 1}, headers=headers).json()
    other = registry.get(
        "/v1/measures/zyb-digital-interest-subsidy/eligible-enterprises",
        params={"cursor": first["next_cursor"]},
        headers=headers,
    )
    assert other.status_code == 400
    assert other.json()["errors"][0]["field"] == "cursor"


def test_every_disclosure_is_recorded_and_outlives_deletion(
    registry: TestClient, auth: Token
) -> None:
    mine = bank()
    body = eligible(bank_consents=[mine])
    put(registry, auth, body)
    registry.get(LOAN, headers=auth("eligibility:read", bank_id=mine))
    registry.delete(f"/v1/enterprises/{body['uscc']}", headers=auth("enterprises:write"))

    refused = registry.get("/v1/disclosures", headers=auth("eligibility:read", bank_id=mine))
    assert refused.status_code == 403
    listed = registry.get(
        "/v1/disclosures", params={"bank_id": mine}, headers=auth("audit:read")
    ).json()["items"]
    assert len(listed) == 1
    record = listed[0]
    assert record["caller"] == "test-suite" and record["bank_id"] == mine
    assert record["measure_id"] == "loan-interest-subsidy"
    assert record["enterprises"] == [body["uscc"]]
    by_firm = registry.get(
        "/v1/disclosures", params={"uscc": body["uscc"]}, headers=auth("audit:read")
    ).json()["items"]
    assert [r["disclosure_id"] for r in by_firm] == [record["disclosure_id"]]
    # after the deletion the firm is no longer disclosed
    again = registry.get(LOAN, headers=auth("eligibility:read", bank_id=mine)).json()
    assert again["items"] == []


def test_disclosures_page_newest_first(registry: TestClient, auth: Token) -> None:
    mine = bank()
    put(registry, auth, eligible(bank_consents=[mine]))
    for _ in range(3):
        registry.get(LOAN, headers=auth("eligibility:read", bank_id=mine))
    headers = auth("audit:read")
    first = registry.get(
        "/v1/disclosures", params={"bank_id": mine, "limit": 2}, headers=headers
    ).json()
    rest = registry.get(
        "/v1/disclosures",
        params={"bank_id": mine, "limit": 2, "cursor": first["next_cursor"]},
        headers=headers,
    ).json()
    ids = [r["disclosure_id"] for r in first["items"] + rest["items"]]
    assert len(ids) == 3 and ids == sorted(ids, reverse=True)
