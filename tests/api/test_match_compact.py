"""`view=compact` on POST /v1/match and /v1/match/batch (issue 14): the same decisions as the full
answer, as measure ids and field names, without reasons; and the view in the OpenAPI document."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.policy.examples import FULL_PROFILE, batch_example
from tests.conftest import Token
from tests.factories import PROBLEM

DAY = "2025-06-01"
FEWER = {k: v for k, v in FULL_PROFILE.items() if k not in ("has_bank_loan", "tier")}


def _both(client: TestClient, auth: Token, profile: dict[str, Any]) -> tuple[Any, Any]:
    """The full and the compact answer for one profile."""
    answers = [
        client.post("/v1/match", json=profile, params={"as_of": DAY, **view}, headers=auth("match"))
        for view in ({}, {"view": "compact"})
    ]
    assert [a.status_code for a in answers] == [200, 200], answers[1].text
    return answers[0].json(), answers[1].json()


def _unmet_fields(near: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(r["field"] for r in near["unmet"]))


@pytest.mark.parametrize("profile", [FULL_PROFILE, FEWER], ids=["full profile", "fields left out"])
def test_the_compact_view_holds_the_full_views_decisions(
    client: TestClient, auth: Token, profile: dict[str, Any]
) -> None:
    full, compact = _both(client, auth, profile)
    assert compact["view"] == "compact"
    assert compact["catalogue_version"] == full["catalogue_version"]
    assert compact["as_of"] == full["as_of"] == DAY
    assert compact["matched"] == [m["measure_id"] for m in full["matched"]]
    assert compact["near_misses"] == [
        {
            "measure_id": n["measure_id"],
            "unmet": _unmet_fields(n),
            **({"missing_fields": n["missing_fields"]} if n.get("missing_fields") else {}),
        }
        for n in full["near_misses"]
    ]
    assert compact["undetermined"] == [
        {"measure_id": u["measure_id"], "missing_fields": u["missing_fields"]}
        for u in full["undetermined"]
    ]
    assert compact["indicators"] == [
        {"id": i["id"], "actual": i["actual"], "status": i["status"]} for i in full["indicators"]
    ]


def test_the_compact_view_has_no_reasons_and_is_small(client: TestClient, auth: Token) -> None:
    full = client.post("/v1/match", json=FEWER, params={"as_of": DAY}, headers=auth("match"))
    compact = client.post(
        "/v1/match", json=FEWER, params={"as_of": DAY, "view": "compact"}, headers=auth("match")
    )
    assert compact.json()["undetermined"], "the profile leaves fields out"
    assert b"reasons" not in compact.content and b'"actual_note"' not in compact.content
    assert len(compact.content) * 10 < len(full.content)
    assert compact.headers["x-catalogue-version"] == compact.json()["catalogue_version"]


def test_view_full_is_the_default(client: TestClient, auth: Token) -> None:
    default = client.post(
        "/v1/match", json=FULL_PROFILE, params={"as_of": DAY}, headers=auth("match")
    )
    full = client.post(
        "/v1/match", json=FULL_PROFILE, params={"as_of": DAY, "view": "full"}, headers=auth("match")
    )
    assert default.content == full.content
    assert "view" not in default.json()


@pytest.mark.parametrize("path", ["/v1/match", "/v1/match/batch"])
def test_any_other_view_is_422_naming_the_parameter(
    client: TestClient, auth: Token, path: str
) -> None:
    body = FULL_PROFILE if path == "/v1/match" else batch_example()
    for bad in ("Compact", "short", ""):
        answer = client.post(path, json=body, params={"view": bad}, headers=auth("match"))
        assert answer.status_code == 422, bad
        assert answer.headers["content-type"] == PROBLEM
        assert answer.json()["errors"][0]["field"] == "view"


def test_a_compact_batch_answers_in_order_with_bad_profiles_in_place(
    client: TestClient, auth: Token
) -> None:
    answer = client.post(
        "/v1/match/batch",
        json=batch_example(),
        params={"as_of": DAY, "view": "compact"},
        headers=auth("match"),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["view"] == "compact" and body["as_of"] == DAY
    good, bad = body["results"]
    assert good["index"] == 0 and good["ok"] and good["uscc"] == FULL_PROFILE["uscc"]
    _, alone = _both(client, auth, FULL_PROFILE)
    assert {k: v for k, v in good.items() if k not in ("index", "ok", "uscc")} == alone
    assert bad["index"] == 1 and not bad["ok"] and bad["errors"]


def test_the_openapi_document_offers_both_views_with_an_example(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    for path, answer in (("/v1/match", "MatchAnswer"), ("/v1/match/batch", "BatchAnswer")):
        operation = document["paths"][path]["post"]
        view = next(p for p in operation["parameters"] if p["name"] == "view")
        assert view["in"] == "query" and view["schema"]["enum"] == ["full", "compact"]
        assert view["schema"]["default"] == "full"
        content = operation["responses"]["200"]["content"]["application/json"]
        assert content["schema"] == {"$ref": f"#/components/schemas/{answer}"}
        assert "view" not in content["example"]  # the full view's; the compact one's below
        assert len(schemas[answer].get("oneOf") or schemas[answer]["anyOf"]) == 2
    assert "oneOf" in schemas["MatchAnswer"]  # a full answer is never a compact one
    compact = schemas["CompactMatchResponse"]
    assert compact["examples"][0]["view"] == "compact"
    assert schemas["CompactBatchResponse"]["examples"][0]["results"][0]["view"] == "compact"
    assert set(compact["required"]) >= {"view", "matched", "near_misses", "undetermined"}
