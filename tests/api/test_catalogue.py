"""The open catalogue endpoints, health, and the OpenAPI document with working examples."""

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from service.core.migrate import upgrade_database
from tests.conftest import NO_LANGUAGE, Token, serve


def test_measures_are_listed_without_a_token(client: TestClient) -> None:
    response = client.get("/v1/measures")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(body["items"]) >= 35
    assert response.headers["x-catalogue-version"] == body["catalogue_version"]
    clauses = [m["clause"] for m in body["items"]]
    assert clauses[0] == "二(一)" and clauses[-1] == "二(三)5"


def test_measures_filter_by_kind_clause_department_day_and_finance(client: TestClient) -> None:
    def ids(**params: Any) -> set[str]:
        return {m["measure_id"] for m in client.get("/v1/measures", params=params).json()["items"]}

    assert ids(kind="loan_interest_subsidy") == {
        "loan-interest-subsidy",
        "central-provincial-loan-interest-funds",
    }
    assert ids(kind=["land_green_channel", "listing_support"]) >= {"land-approval-green-channel"}
    assert all(m.startswith(("land", "joint", "specialty")) for m in ids(clause="二(三)3"))
    assert "land-approval-green-channel" in ids(department="housing_construction")
    assert ids(in_force_on="2027-01-01") == set()
    assert len(ids(in_force_on="2025-01-01")) == len(ids())
    finance = ids(finance=True)
    assert "loan-interest-subsidy" in finance and "land-approval-green-channel" not in finance


def test_an_unknown_kind_is_refused_naming_the_parameter(client: TestClient) -> None:
    response = client.get("/v1/measures", params={"kind": ["loan_interest_subsidy", "5"]})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(e["field"].startswith("kind") for e in response.json()["errors"])


def test_a_measure_quotes_its_sentence(client: TestClient) -> None:
    body = client.get("/v1/measures/zyb-digital-interest-subsidy").json()
    assert body["source"]["clause"] == "二(二)2"
    assert any("政銀保" in q for q in body["source"]["quote"])
    assert body["kind"] == "zyb_digital_interest_subsidy"
    assert body["conditions"] and body["eligibility"]


def test_an_unknown_measure_is_404_problem_json(client: TestClient) -> None:
    response = client.get("/v1/measures/free-money")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "free-money" in response.json()["detail"]


def test_departments_know_what_they_lead(client: TestClient) -> None:
    items = {d["code"]: d for d in client.get("/v1/departments").json()["items"]}
    assert len(items) == 17
    assert items["industry_it"]["lead_of"][0] == "二(一)"
    assert items["natural_resources"]["lead_of"] == ["二(三)3"]
    assert items["customs"]["lead_of"] == [] and items["customs"]["clauses"] == ["二(三)1"]
    english = client.get("/v1/departments", headers={"Accept-Language": "en"}).json()
    assert english["items"][0]["name"].startswith("Municipal")


def test_health(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"


def test_unknown_paths_are_problem_json(client: TestClient) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert spec["components"]["schemas"]["Profile"]["properties"]["cluster"]


def test_every_documented_example_works(client: TestClient, auth: Token) -> None:
    spec = client.get("/openapi.json").json()
    scopes = ("match", "enterprises:read", "enterprises:write", "push")
    tried = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            for media, body in content.items():
                if media != "application/json":
                    continue
                examples = body.get("examples", {})
                assert examples, f"{method} {path} has no example"
                url = path
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "path":
                        example = parameter["schema"]["examples"][0]
                        url = url.replace("{" + parameter["name"] + "}", str(example))
                for name, example in examples.items():
                    response = client.request(
                        method, url, json=example["value"], headers=auth(*scopes)
                    )
                    assert response.status_code < 300, (path, name, response.text)
                    tried += 1
    assert tried >= 4


def test_cluster_enum_comes_from_the_vocabulary(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["Profile"]
    cluster = schema["properties"]["cluster"]
    enum = next(s["enum"] for s in cluster["anyOf"] if "enum" in s)
    assert "laser_additive" in enum and len(enum) == 8


def test_condition_notes_follow_the_language(client: TestClient) -> None:
    def note(language: str) -> str:
        body = client.get(
            "/v1/measures/loan-interest-subsidy", headers={"Accept-Language": language}
        ).json()
        return str(body["conditions"][0]["note"])

    assert "2023" in note("zh-Hans") and "省级" in note("zh-Hans")
    assert "省級" in note("zh-Hant")
    assert "the city's 2023 round" in note("en")


def test_readiness_needs_a_migrated_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with serve(url) as fresh:
        assert fresh.get("/healthz").status_code == 200
        not_ready = fresh.get("/readyz")
        assert not_ready.status_code == 503
        assert "alembic upgrade head" in not_ready.json()["detail"]
        upgrade_database(url)
        ready = fresh.get("/readyz").json()
        assert ready["status"] == "ready" and ready["schema_revision"]


def test_readiness_fails_without_the_database() -> None:
    with serve("postgresql+psycopg://postgres@127.0.0.1:9/nowhere") as unreachable:
        answer = unreachable.get("/readyz")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert "cannot be reached" in answer.json()["detail"]


def test_every_protected_operation_documents_its_scope(client: TestClient, auth: Token) -> None:
    """Swagger UI shows a lock, with the scope, exactly on the operations a token is needed for."""
    spec = client.get("/openapi.json").json()
    open_paths = {
        "/v1/measures",
        "/v1/measures/{measure_id}",
        "/v1/departments",
        "/v1/vocabularies",  # open, as the contract lists it
        "/v1/enterprises/import-template.xlsx",  # columns and labels only, nothing of any firm
        "/v1/auth/token",
        "/healthz",
        "/readyz",
    }
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path in open_paths:
                assert "security" not in operation, (method, path)
                continue
            scopes = operation["security"][0]["OAuth2"]
            assert len(scopes) == 1, (method, path)
            url = path.replace("{", "").replace("}", "")
            refused = client.request(method, url, headers=auth("no-such-scope"))
            assert refused.status_code == 403, (method, path, refused.status_code)


def test_the_vocabularies_are_listed_without_a_token_in_the_callers_language(
    client: TestClient,
) -> None:
    answer = client.get("/v1/vocabularies", headers=NO_LANGUAGE)
    assert answer.status_code == 200
    lists = {v["vocabulary"]: v["terms"] for v in answer.json()["items"]}
    assert {"tiers", "counties", "clusters", "sub_industries", "kinds"} <= lists.keys()
    taishan = next(t for t in lists["counties"] if t["code"] == "440781")
    assert (taishan["name"], taishan["government"]) == ("台山市", "台山市人民政府")
    english = client.get("/v1/vocabularies", headers={"Accept-Language": "en"}).json()
    tiers = next(v["terms"] for v in english["items"] if v["vocabulary"] == "tiers")
    assert [t["code"] for t in tiers][:2] == ["none", "innovative"]
    assert tiers[1]["name"] == "innovative SME" and tiers[1]["names"]["zh-Hans"] == "创新型中小企业"


def test_the_vocabularies_hold_every_code_list_the_api_uses(client: TestClient) -> None:
    """Every enum of the profile and the measures, and the units the plan names."""
    answer = client.get("/v1/vocabularies", headers=NO_LANGUAGE).json()
    lists = {v["vocabulary"]: v["terms"] for v in answer["items"]}
    expected = {"departments", "listing_stages", "rd_institutions", "standards_roles", "kinds"}
    assert expected <= lists.keys()
    departments = {t["code"]: t for t in client.get("/v1/departments").json()["items"]}
    assert {t["code"] for t in lists["departments"]} == departments.keys()
    assert all(set(t["names"]) == {"zh-Hans", "zh-Hant", "en"} for t in lists["departments"])
