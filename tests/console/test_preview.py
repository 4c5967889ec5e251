"""/console/preview: the impact of the policies folder in three languages, computed as a job,
publishing only on a POST with the session's CSRF token; 4xx, never 500, on bad addresses."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from itsdangerous import URLSafeTimedSerializer

from service.console.session import SESSION_COOKIE, session_key
from service.core.logs import mask_credit_code
from service.core.migrate import upgrade_database
from service.registry.publication import published_version
from tests.conftest import NO_LANGUAGE, TEST_SETTINGS, Token, serve
from tests.factories import put
from tests.policy_copies import copy_policies
from tests.preview_edit import change_one_measure, firm_of

ADMIN = "catalogue:admin"


def signed_session(key: bytes, scopes: list[str], csrf: str) -> str:
    """A session cookie's value, signed with `key` as the console signs them (until the
    sign-in page exists, the tests sign in this way)."""
    data = {"sub": "staff-1", "scopes": scopes, "exp": time.time() + 600, "csrf": csrf}
    return URLSafeTimedSerializer(key, salt="console-session").dumps(data)


def sign_in(client: TestClient, *scopes: str, csrf: str = "csrf-of-the-test") -> str:
    """A session cookie for `scopes` set on the client; its CSRF token."""
    value = signed_session(session_key(TEST_SETTINGS), list(scopes), csrf)
    client.cookies.set(SESSION_COOKIE, value, path="/console")
    return csrf


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    """The service on its own database and policies folder, with firms of every tier."""
    folder = tmp_path_factory.mktemp("console-preview")
    url = f"sqlite:///{folder / 'db.sqlite'}"
    upgrade_database(url)
    policies = copy_policies(folder)
    with serve(url, policies_dir=policies) as client:
        yield client, policies


def finished(client: TestClient, **params: Any) -> Response:
    """The preview page once its job is done (or refused)."""
    page: Response = client.get("/console/preview", params=params)
    for _ in range(400):
        if 'id="preview-job"' not in page.text:
            return page
        time.sleep(0.05)
        page = client.get("/console/preview")
    raise AssertionError("the preview did not finish")


def computed(client: TestClient, **params: Any) -> str:
    """The finished preview page's text."""
    page = finished(client, **params)
    assert page.status_code == 200, page.text
    return str(page.text)


def test_the_preview_lists_the_moved_firms_in_chinese_and_publishes_only_with_the_token(
    served: tuple[TestClient, Path], auth: Token
) -> None:
    client, policies = served
    firms = [firm_of(t, i) for i, t in enumerate(("municipal", "innovative", "provincial", "none"))]
    for profile in firms:
        assert put(client, auth, profile).status_code == 201
    csrf = sign_in(client, ADMIN)
    same = computed(client, lang="zh-Hans")
    assert "不会改变" in same or "现行目录" in same
    assert 'id="publish"' not in same

    change_one_measure(policies)
    page = client.get("/console/preview", headers=NO_LANGUAGE)
    assert page.status_code == 200 and 'id="preview-job"' in page.text  # computing
    job = page.text.split("/console/preview/jobs/")[1][:32]
    text = computed(client)
    assert "品牌培育和运营专业服务" in text and "台山市" in text
    assert mask_credit_code(firms[0]["uscc"]) in text  # municipal: loses it
    assert mask_credit_code(firms[1]["uscc"]) in text  # innovative: gains it
    assert mask_credit_code(firms[2]["uscc"]) not in text
    assert "创新型中小企业" in text  # the conditions after, in plain words
    state = client.get(f"/console/preview/jobs/{job}").json()
    assert state["state"] == "done" and state["done"] == state["total"] >= 4
    for language, word in (("zh-Hant", "品牌培育和運營專業服務"), ("en", "Brand cultivation")):
        assert word in client.get("/console/preview", params={"lang": language}).text
    client.get("/console/preview", params={"lang": "zh-Hans"})

    engine = client.app.state.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        in_force = published_version(connection)
    version = text.split('name="catalogue_version" value="')[1].split('"')[0]
    refused = client.post("/console/preview/publish", data={"catalogue_version": version})
    assert refused.status_code == 403
    forged = {"catalogue_version": version, "csrf_token": "forged"}
    assert client.post("/console/preview/publish", data=forged).status_code == 403
    with engine.connect() as connection:
        assert published_version(connection) == in_force
    stale = {"catalogue_version": "0" * 16, "csrf_token": csrf}
    assert client.post("/console/preview/publish", data=stale).status_code == 409

    done = client.post(
        "/console/preview/publish",
        data={"catalogue_version": version, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/console/preview/runs/")
    with engine.connect() as connection:
        assert published_version(connection) == version
    run_page = client.get(done.headers["location"])
    assert run_page.status_code == 200 and 'id="run-source"' in run_page.text
    run = client.get(done.headers["location"] + "/state").json()
    assert run["catalogue_version"] == version and run["state"] in ("queued", "running", "done")


def test_the_page_is_for_catalogue_admins_only(served: tuple[TestClient, Path]) -> None:
    client, _ = served
    client.cookies.clear()
    stranger = client.get("/console/preview", follow_redirects=False)
    assert stranger.status_code == 303 and "/console/sign-in" in stranger.headers["location"]
    sign_in(client, "match", "push")
    assert client.get("/console/preview").status_code == 403
    assert client.get("/console/preview/runs/1").status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/console/preview/jobs/not-a-job",
        "/console/preview/jobs/" + "0" * 32,
        "/console/preview/runs/999999",
        "/console/preview/runs/abc",
        "/console/preview/runs/0",
        "/console/preview/runs/99999999999",
        "/console/preview?fresh=maybe",
    ],
)
def test_bad_addresses_are_4xx_never_500(served: tuple[TestClient, Path], path: str) -> None:
    client, _ = served
    sign_in(client, ADMIN)
    answer = client.get(path)
    assert 400 <= answer.status_code < 500, answer.text


def test_a_folder_failing_its_checks_is_shown_with_its_problems(
    served: tuple[TestClient, Path],
) -> None:
    client, policies = served
    sign_in(client, ADMIN)
    path = policies / "measures" / "loan-interest-subsidy.yaml"
    original = path.read_text()
    path.write_text(original.replace("clause: 二(二)5", "clause: 九(九)9"))
    try:
        page = finished(client)
        assert page.status_code == 422 and "loan-interest-subsidy" in page.text
        assert 'id="publish"' not in page.text
    finally:
        path.write_text(original)
