"""Starting the service: a broken catalogue stops it, naming file and field; module boundaries."""

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from service.core.settings import PROJECT_ROOT, Settings
from service.main import create_app
from service.policy.catalogue import CatalogueError


def test_a_broken_policy_file_stops_the_start_naming_file_and_field(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", policies)
    path = policies / "measures" / "land-approval-green-channel.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("kind: land_green_channel", "kind: land_grab"),
        encoding="utf-8",
    )
    settings = Settings(environment="test", jwt_secret=SecretStr("x" * 32), policies_dir=policies)
    with pytest.raises(CatalogueError) as caught, TestClient(create_app(settings)):
        pass
    assert any(
        p.startswith("measures/land-approval-green-channel.yaml: kind: 'land_grab'")
        for p in caught.value.problems
    )


def test_production_refuses_the_placeholder_secret() -> None:
    with pytest.raises(ValueError, match="JWT_SECRET"):
        Settings(environment="production", enable_token_endpoint=False)


def test_only_tokens_imports_jose() -> None:
    importers = [
        path.name
        for path in (PROJECT_ROOT / "service").rglob("*.py")
        if "from jose" in path.read_text(encoding="utf-8")
        or "import jose" in path.read_text(encoding="utf-8")
    ]
    assert importers == ["tokens.py"]


def test_vocabularies_other_than_the_profile_schema_stop_the_start(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", policies)
    path = policies / "vocabularies.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("en: Enping City,", "en: Enping,"),
        encoding="utf-8",
    )
    settings = Settings(environment="test", jwt_secret=SecretStr("x" * 32), policies_dir=policies)
    with pytest.raises(CatalogueError) as caught, TestClient(create_app(settings)):
        pass
    assert "differs from the vocabularies" in caught.value.problems[0]


def test_a_push_lease_shorter_than_an_attempt_is_refused() -> None:
    with pytest.raises(ValueError, match="PUSH_LEASE_SECONDS"):
        Settings(environment="test", push_timeout_seconds=30, push_lease_seconds=20)
