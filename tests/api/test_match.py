"""POST /v1/match and /v1/match/batch over HTTP, bad input included."""

from typing import Any

from fastapi.testclient import TestClient

from service.policy.examples import FULL_PROFILE, batch_example
from tests.conftest import Token
from tests.factories import PROBLEM


def _match(client: TestClient, auth: Token, body: Any, **params: str) -> Any:
    return client.post("/v1/match", json=body, params=params, headers=auth("match"))


def test_without_a_token_the_answer_is_401_problem_json(client: TestClient) -> None:
    response = client.post("/v1/match", json={"county": "440703"})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


def test_without_the_match_scope_the_answer_is_403(client: TestClient, auth: Token) -> None:
    response = client.post("/v1/match", json={"county": "440703"}, headers=auth("push"))
    assert response.status_code == 403
    assert "match" in response.json()["detail"]


def test_a_full_profile_is_matched_with_reasons_and_departments(
    client: TestClient, auth: Token
) -> None:
    response = _match(client, auth, FULL_PROFILE, as_of="2025-06-01")
    assert response.status_code == 200
    body = response.json()
    assert response.headers["x-catalogue-version"] == body["catalogue_version"]
    assert body["as_of"] == "2025-06-01"
    loan = next(m for m in body["matched"] if m["measure_id"] == "loan-interest-subsidy")
    assert loan["clause"] == "二(二)5" and loan["kind"] == "loan_interest_subsidy"
    assert loan["lead_department"] == {"code": "industry_it", "name": "市工业和信息化局"}
    assert [d["code"] for d in loan["departments"]] == [
        "industry_it",
        "finance",
        "financial_affairs",
        "hr_social_security",
    ]
    assert loan["county_government"] == "台山市人民政府"
    assert {
        "field": "has_bank_loan",
        "operator": "is",
        "expected": True,
        "actual": True,
        "passed": True,
    } in loan["reasons"]
    for near in body["near_misses"]:
        assert near["unmet"] and all(r["passed"] is not True for r in near["unmet"])
    assert body["undetermined"] == []


def test_a_near_miss_says_what_is_missing(client: TestClient, auth: Token) -> None:
    profile = {**FULL_PROFILE, "tier": "innovative"}
    body = _match(client, auth, profile, as_of="2025-06-01").json()
    loan = next(m for m in body["near_misses"] if m["measure_id"] == "loan-interest-subsidy")
    assert loan["unmet"] == [
        {
            "field": "tier",
            "operator": "one_of",
            "expected": ["municipal", "provincial", "little_giant"],
            "actual": "innovative",
            "passed": False,
            "note": loan["unmet"][0]["note"],
        }
    ]


def test_missing_fields_make_measures_undetermined(client: TestClient, auth: Token) -> None:
    body = _match(
        client, auth, {"county": "440785", "tier": "provincial", "tier_valid_until": "2026-12-31"}
    ).json()
    loan = next(m for m in body["undetermined"] if m["measure_id"] == "loan-interest-subsidy")
    assert loan["missing_fields"] == ["has_bank_loan"]
    assert loan["county_government"] == "恩平市人民政府"


def test_nothing_matches_after_the_plan_ends(client: TestClient, auth: Token) -> None:
    body = _match(client, auth, FULL_PROFILE, as_of="2027-01-01").json()
    assert body["matched"] == body["near_misses"] == body["undetermined"] == []


def test_language_follows_accept_language(client: TestClient, auth: Token) -> None:
    for language, government, lead in [
        (
            "en",
            "Taishan Municipal People's Government",
            "Municipal Bureau of Industry and Information Technology",
        ),
        ("zh-Hant", "台山市人民政府", "市工業和信息化局"),
        ("zh-TW,zh;q=0.8", "台山市人民政府", "市工業和信息化局"),
    ]:
        response = client.post(
            "/v1/match",
            json=FULL_PROFILE,
            params={"as_of": "2025-06-01"},
            headers=auth("match", **{"Accept-Language": language}),
        )
        loan = next(
            m for m in response.json()["matched"] if m["measure_id"] == "loan-interest-subsidy"
        )
        assert loan["county_government"] == government
        assert loan["lead_department"]["name"] == lead


def _field_error(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    return [e["field"] for e in response.json()["errors"]]


def test_invalid_fields_are_named_by_json_path(client: TestClient, auth: Token) -> None:
    bad_code = {**FULL_PROFILE, "uscc": FULL_PROFILE["uscc"][:-1] + "Z"}
    assert _field_error(_match(client, auth, bad_code)) == ["$.uscc"]
    assert _field_error(_match(client, auth, {"county": "440700"})) == ["$.county"]
    assert _field_error(_match(client, auth, {})) == ["$.county"]
    unknown = {"county": "440703", "registered_capital": 5}
    assert _field_error(_match(client, auth, unknown)) == ["$.registered_capital"]
    consents = {"county": "440703", "bank_consents": ["ok", ""]}
    assert _field_error(_match(client, auth, consents)) == ["$.bank_consents[1]"]


def test_a_bad_as_of_is_named(client: TestClient, auth: Token) -> None:
    response = _match(client, auth, {"county": "440703"}, as_of="yesterday")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "as_of"


def test_malformed_json_is_400(client: TestClient, auth: Token) -> None:
    response = client.post(
        "/v1/match",
        content=b'{"county": "440703",',
        headers=auth("match", **{"Content-Type": "application/json"}),
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


def test_a_body_that_is_not_json_is_415(client: TestClient, auth: Token) -> None:
    response = client.post(
        "/v1/match",
        content=b"county=440703",
        headers=auth("match", **{"Content-Type": "text/plain"}),
    )
    assert response.status_code == 415
    assert response.headers["content-type"] == PROBLEM


def test_an_oversized_body_is_413(client: TestClient, auth: Token) -> None:
    huge = {"county": "440703", "name": "x" * 2_000_000}
    response = _match(client, auth, huge)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


def test_a_json_array_is_not_a_profile(client: TestClient, auth: Token) -> None:
    response = _match(client, auth, [FULL_PROFILE])
    assert response.status_code == 422


def test_batch_answers_in_order_and_reports_a_bad_profile_in_place(
    client: TestClient, auth: Token
) -> None:
    body = batch_example()
    body["profiles"].append({"county": "440785"})
    response = client.post(
        "/v1/match/batch", json=body, params={"as_of": "2025-06-01"}, headers=auth("match")
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["index"] for r in results] == [0, 1, 2]
    assert results[0]["ok"] and results[0]["uscc"] == FULL_PROFILE["uscc"]
    assert any(m["measure_id"] == "loan-interest-subsidy" for m in results[0]["matched"])
    assert not results[1]["ok"]
    assert [e["field"] for e in results[1]["errors"]] == ["$.profiles[1].uscc"]
    assert results[2]["ok"] and results[2]["county_government"] == "恩平市人民政府"


def test_batch_is_capped(client: TestClient, auth: Token) -> None:
    body = {"profiles": [{"county": "440703"}] * 1001}
    response = client.post("/v1/match/batch", json=body, headers=auth("match"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "$.profiles"


def test_batch_needs_a_list_of_profiles(client: TestClient, auth: Token) -> None:
    bodies: list[Any] = [{"county": "440703"}, {"profiles": {"county": "440703"}}, []]
    for body in bodies:
        response = client.post("/v1/match/batch", json=body, headers=auth("match"))
        assert response.status_code == 422, body


def test_an_expired_tier_is_explained_in_the_reason(client: TestClient, auth: Token) -> None:
    profile = {
        "county": "440705",
        "tier": "provincial",
        "tier_valid_until": "2025-03-31",
        "has_bank_loan": True,
    }
    body = _match(client, auth, profile, as_of="2025-06-01").json()
    loan = next(m for m in body["near_misses"] if m["measure_id"] == "loan-interest-subsidy")
    tier = loan["unmet"][0]
    assert tier["actual"] == "none" and tier["passed"] is False
    assert tier["actual_note"] == "省级专精特新中小企业认定已于2025-03-31到期，不再计入"
    assert tier["note"]  # the policy's own reason for the condition is kept beside it


def test_a_chunked_body_over_the_limit_is_413(client: TestClient, auth: Token) -> None:
    def chunks() -> Any:
        yield b'{"county": "440703", "name": "'
        for _ in range(40):
            yield b"x" * 50_000
        yield b'"}'

    response = client.post(
        "/v1/match", content=chunks(), headers=auth("match", **{"Content-Type": "application/json"})
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


def test_a_small_chunked_body_is_read(client: TestClient, auth: Token) -> None:
    def chunks() -> Any:
        yield b'{"county": '
        yield b'"440703"}'

    response = client.post(
        "/v1/match", content=chunks(), headers=auth("match", **{"Content-Type": "application/json"})
    )
    assert response.status_code == 200


def test_actual_notes_follow_the_language(client: TestClient, auth: Token) -> None:
    profile = {"county": "440705", "tier": "provincial", "has_bank_loan": True}
    response = client.post(
        "/v1/match",
        json=profile,
        params={"as_of": "2025-06-01"},
        headers=auth("match", **{"Accept-Language": "en"}),
    )
    loan = next(
        m for m in response.json()["undetermined"] if m["measure_id"] == "loan-interest-subsidy"
    )
    assert loan["missing_fields"] == ["tier_valid_until"]
    assert loan["reasons"][0]["actual_note"] == (
        "the validity of the provincial specialised SME recognition (tier_valid_until) is not given"
    )


def test_near_misses_name_missing_fields_apart_from_unmet(client: TestClient, auth: Token) -> None:
    profile = {"county": "440705", "tier": "innovative", "tier_valid_until": "2026-12-31"}
    body = _match(client, auth, profile, as_of="2025-06-01").json()
    loan = next(m for m in body["near_misses"] if m["measure_id"] == "loan-interest-subsidy")
    assert [r["field"] for r in loan["unmet"]] == ["tier"]
    assert loan["missing_fields"] == ["has_bank_loan"]


def test_as_of_must_be_written_yyyy_mm_dd(client: TestClient, auth: Token) -> None:
    for day in ("20250601", "2025W011", "2025-6-1", "2025-02-30"):
        response = _match(client, auth, {"county": "440703"}, as_of=day)
        assert response.status_code == 422, day
        assert response.json()["errors"][0]["field"] == "as_of"


def test_answers_vary_by_language(client: TestClient, auth: Token) -> None:
    response = _match(client, auth, {"county": "440703"})
    assert response.headers["vary"] == "Accept-Language"
    assert client.get("/v1/measures").headers["vary"] == "Accept-Language"
