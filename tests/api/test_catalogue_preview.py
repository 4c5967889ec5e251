"""POST /v1/catalogue/preview: the impact of the server's policies folder, written nowhere; the
firms it lists are those POST /v1/match moves once the folder is put in force."""

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.api.routes.preview import PREVIEW_SLOT
from service.core.logs import mask_credit_code
from service.core.migrate import upgrade_database
from tests.conftest import NO_LANGUAGE, Token, serve
from tests.factories import PROBLEM, firm, put
from tests.policy_copies import copy_policies
from tests.preview_edit import CHANGED, change_one_measure
from tests.registry.test_preview import row_counts

ADMIN = "catalogue:admin"
TIERS = ["provincial", "municipal", "innovative", "none", "little_giant"]


def matched(client: TestClient, auth: Token, profile: dict[str, Any]) -> bool:
    """Whether POST /v1/match says the profile gets CHANGED."""
    answer = client.post("/v1/match", json=profile, headers=auth("match"))
    assert answer.status_code == 200, answer.text
    return CHANGED in {m["measure_id"] for m in answer.json()["matched"]}


def test_the_preview_lists_the_firms_matching_moves_and_writes_nothing(
    tmp_path: Path, auth: Token
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade_database(url)
    policies = copy_policies(tmp_path)
    with serve(url, policies_dir=policies) as client:
        firms = [firm(tier=TIERS[i % 5], trademarks=i % 3) for i in range(15)]
        for profile in firms:
            assert put(client, auth, profile).status_code == 201
        before = {p["uscc"]: matched(client, auth, p) for p in firms}
        unchanged = client.post("/v1/catalogue/preview", headers=auth(ADMIN))
        assert unchanged.status_code == 200, unchanged.text
        assert unchanged.json()["changed"] is False and unchanged.json()["measures"] == []

        change_one_measure(policies)
        engine: Engine = client.app.state.engine  # type: ignore[attr-defined]
        with engine.connect() as connection:
            counts = row_counts(connection)
        answer = client.post("/v1/catalogue/preview", headers=auth(ADMIN, **NO_LANGUAGE))
        assert answer.status_code == 200, answer.text
        with engine.connect() as connection:
            assert row_counts(connection) == counts
        body = answer.json()
        assert body["changed"] and body["firms"] == 15
        (impact,) = body["measures"]
        assert impact["measure_id"] == CHANGED and impact["title"] == "品牌培育和运营专业服务"

        assert client.post("/v1/catalogue/reload", headers=auth(ADMIN)).status_code == 202
        after = {p["uscc"]: matched(client, auth, p) for p in firms}
        gained = {mask_credit_code(u) for u in after if after[u] and not before[u]}
        lost = {mask_credit_code(u) for u in after if before[u] and not after[u]}
        assert gained and lost
        assert {f["uscc"] for f in impact["gained"]["first"]} == gained
        assert {f["uscc"] for f in impact["lost"]["first"]} == lost
        assert impact["gained"]["by_county"][0]["county_name"] == "台山市"
        events = body["events"]
        assert (events["measure.matched"], events["measure.unmatched"]) == (len(gained), len(lost))


def test_a_folder_failing_its_checks_is_422_naming_every_problem(
    tmp_path: Path, auth: Token
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade_database(url)
    policies = copy_policies(tmp_path)
    with serve(url, policies_dir=policies) as client:
        path = policies / "measures" / "loan-interest-subsidy.yaml"
        path.write_text(path.read_text().replace("clause: 二(二)5", "clause: 九(九)9"))
        refused = client.post("/v1/catalogue/preview", headers=auth(ADMIN))
        assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM
        assert any("loan-interest-subsidy" in e["message"] for e in refused.json()["errors"])


def test_the_preview_needs_the_admin_scope_a_valid_day_and_runs_one_at_a_time(
    client: TestClient, auth: Token
) -> None:
    assert client.post("/v1/catalogue/preview").status_code == 401
    assert client.post("/v1/catalogue/preview", headers=auth("match")).status_code == 403
    bad = client.post("/v1/catalogue/preview?as_of=tomorrow", headers=auth(ADMIN))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "as_of"
    with PREVIEW_SLOT:
        busy = client.post("/v1/catalogue/preview", headers=auth(ADMIN))
    assert busy.status_code == 503 and busy.headers["retry-after"] == "10"
    assert client.post("/v1/catalogue/preview", headers=auth(ADMIN)).status_code == 200


def test_the_operation_is_documented_in_chinese_first_with_an_example(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/catalogue/preview"]["post"]
    assert operation["operationId"] == "previewCatalogue"
    assert operation["summary"].startswith("预览")
    assert "example" in operation["responses"]["200"]["content"]["application/json"]
    assert {"401", "403", "422", "503"} <= set(operation["responses"])
