"""A Python client generated from /openapi.json, in the test run, calls the service.

openapi-python-client writes the client from the document the running service serves; the test
imports it and calls matchProfile, listMeasures and listEligibleEnterprises (with a bank token)
against the service served by uvicorn on loopback. The names asserted here are the ones an SDK
user writes: a generator that called them `match_profile_v1_match_post` or `VALUE_3` fails it.
"""

import importlib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from bench.common import free_port
from service.api.auth import issue_token
from service.core.migrate import upgrade_database
from service.main import create_app
from service.policy.examples import EXAMPLE_USCC, FULL_PROFILE
from tests.conftest import TEST_SETTINGS

pytestmark = pytest.mark.slow
PACKAGE = "policy_match_client"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """The application under uvicorn on a free loopback port while the block runs."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def generate(document: bytes, folder: Path) -> None:
    """Write the client package for this document into `folder`."""
    (folder / "openapi.json").write_bytes(document)
    # a workbook answer is a file to the client, as application/octet-stream would be
    (folder / "config.yaml").write_text(
        f"package_name_override: {PACKAGE}\npost_hooks: []\ncontent_type_overrides:\n"
        f"  {XLSX}: application/octet-stream\n"
    )
    run = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            "openapi.json",
            "--config",
            "config.yaml",
            "--meta",
            "none",
            "--output-path",
            PACKAGE,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr


def module(name: str) -> ModuleType:
    """A module of the generated client."""
    return importlib.import_module(f"{PACKAGE}.{name}")


@pytest.fixture(scope="module")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service on a migrated SQLite database, served over HTTP."""
    url = f"sqlite:///{tmp_path_factory.mktemp('client') / 'policy_match.db'}"
    upgrade_database(url)
    with served(create_app(TEST_SETTINGS.model_copy(update={"database_url": url}))) as base:
        yield base


@pytest.fixture(scope="module")
def client_package(
    service_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ModuleType]:
    """The client generated from the document the service serves, importable."""
    folder = tmp_path_factory.mktemp("generated")
    generate(httpx.get(f"{service_url}/openapi.json").content, folder)
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def token(*scopes: str, bank_id: str | None = None) -> str:
    """A bearer token of the test settings."""
    issued, _ = issue_token(
        subject="generated-client", scopes=scopes, bank_id=bank_id, settings=TEST_SETTINGS
    )
    return issued


def test_the_generated_client_speaks_the_domains_words(
    client_package: ModuleType, service_url: str
) -> None:
    client = module("client")
    models = module("models")
    match_profile = module("api.匹配_matching.match_profile")
    list_measures = module("api.政策目录_catalogue.list_measures")
    put_enterprise = module("api.企业库_registry.put_enterprise")
    eligible = module("api.银行_banks.list_eligible_enterprises")
    issue_access_token = module("api.认证_auth.issue_access_token")

    assert models.ProfileCounty.TAISHAN.value == "440781"
    assert models.ProfileTier.LITTLE_GIANT.value == "little_giant"
    profile = models.Profile.from_dict(FULL_PROFILE)
    assert profile.county is models.ProfileCounty.TAISHAN

    platform = client.AuthenticatedClient(
        base_url=service_url, token=token("match", "enterprises:write")
    )
    answer = match_profile.sync_detailed(client=platform, body=profile, accept_language="zh-Hans")
    assert answer.status_code == 200, answer.content
    matched = answer.parsed
    assert isinstance(matched, models.MatchResponse)
    assert matched.county_government == "台山市人民政府" and matched.matched
    assert answer.headers["content-language"] == "zh-Hans"

    measures = list_measures.sync(client=client.Client(base_url=service_url), finance=True)
    assert isinstance(measures, models.MeasureList)
    assert measures.items and all(m.finance for m in measures.items)

    stored = put_enterprise.sync_detailed(EXAMPLE_USCC, client=platform, body=profile)
    assert stored.status_code in (200, 201), stored.content
    bank = client.AuthenticatedClient(
        base_url=service_url, token=token("eligibility:read", bank_id="bank-demo-1")
    )
    page = eligible.sync("loan-interest-subsidy", client=bank, limit=10)
    assert isinstance(page, models.EligibleEnterprises)
    assert [e.uscc for e in page.items] == [EXAMPLE_USCC]
    assert page.items[0].county == "440781"

    refused = eligible.sync("ladder-training-courses", client=bank)  # not a finance measure
    assert isinstance(refused, models.Problem) and refused.status == 403

    form = models.IssueAccessTokenBody(
        grant_type=models.IssueAccessTokenBodyGrantType.CLIENT_CREDENTIALS,
        client_id="nobody",
        client_secret="not-a-secret",
    )
    unknown = issue_access_token.sync(client=client.Client(base_url=service_url), body=form)
    assert isinstance(unknown, models.OAuthError)
    assert unknown.error is models.OAuthErrorError.INVALID_CLIENT
