"""The Dockerfile and compose.yaml, checked without a Docker engine (none runs here): their
shape, their settings against the service's, and their commands run as they are written, on
PostgreSQL, in production mode."""

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bench.common import free_port
from service.api.auth import issue_token
from service.core.settings import PROJECT_ROOT, Settings
from service.policy.examples import FULL_PROFILE

DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text(encoding="utf-8"))
SECRETS = {
    "POSTGRES_PASSWORD": "not-used-here",
    "POLICY_MATCH_JWT_SECRET": "packaging-test-secret-long-enough-0001",
    "POLICY_MATCH_PUSH_SECRET_KEYS": Fernet.generate_key().decode(),
}


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def final_stage() -> list[tuple[str, str]]:
    """The instructions of the image that runs."""
    steps = instructions()
    last_from = max(i for i, (name, _) in enumerate(steps) if name == "FROM")
    return steps[last_from:]


def substituted(value: str) -> str:
    """`${NAME:?message}` and `${NAME}` replaced as compose would, from SECRETS."""
    return re.sub(r"\$\{(\w+)(:\?[^}]*)?\}", lambda m: SECRETS[m.group(1)], value)


def compose_environment(service: str) -> dict[str, str]:
    """A compose service's environment, secrets filled in."""
    environment: dict[str, Any] = COMPOSE["services"][service]["environment"]
    return {k: substituted(str(v)) for k, v in environment.items()}


def test_the_image_is_multi_stage_and_runs_as_a_user() -> None:
    assert sum(name == "FROM" for name, _ in instructions()) >= 2
    users = [value for name, value in final_stage() if name == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(name == "HEALTHCHECK" and "/readyz" in value for name, value in final_stage())


def test_the_base_image_and_the_package_index_are_build_arguments() -> None:
    """So that mainland or intranet mirrors can stand in for Docker Hub and PyPI."""
    steps = instructions()
    first_from = next(i for i, (name, _) in enumerate(steps) if name == "FROM")
    arguments = dict(value.split("=", 1) for name, value in steps[:first_from] if name == "ARG")
    assert arguments == {
        "BASE_IMAGE": "python:3.11-slim",
        "PIP_INDEX_URL": "https://pypi.org/simple",
    }
    assert all(value.split()[0] == "${BASE_IMAGE}" for name, value in steps if name == "FROM")
    installs = [value for name, value in steps if name == "RUN" and "pip install" in value]
    assert installs and all('--index-url "${PIP_INDEX_URL}"' in value for value in installs)
    # an ARG before FROM is not seen inside a stage unless the stage declares it again
    stage = steps[first_from:]
    install = next(i for i, (name, value) in enumerate(stage) if "pip install" in value)
    assert ("ARG", "PIP_INDEX_URL") in stage[:install]


def test_compose_has_the_database_the_service_and_a_worker_on_one_image() -> None:
    services = COMPOSE["services"]
    assert {"postgres", "service", "worker"} <= services.keys()
    assert services["service"]["build"] == services["worker"]["build"] == "."
    assert services["worker"]["command"][:2] == ["policy-match", "worker"]
    assert services["service"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["worker"]["depends_on"]["service"]["condition"] == "service_healthy"


def test_every_setting_compose_gives_is_one_the_service_reads() -> None:
    fields = {f"POLICY_MATCH_{name.upper()}" for name in Settings.model_fields}
    for service in ("service", "worker"):
        given = {k for k in compose_environment(service) if k.startswith("POLICY_MATCH_")}
        assert given <= fields, given - fields
    image_env = {
        pair.split("=", 1)[0]
        for name, value in final_stage()
        if name == "ENV"
        for pair in value.split()
    }
    assert {k for k in image_env if k.startswith("POLICY_MATCH_")} <= fields


@pytest.mark.slow
def test_the_image_command_migrates_then_serves_and_the_worker_runs(
    postgresql_database: str, tmp_path: Path
) -> None:
    port = free_port()
    image_env = dict(
        pair.split("=", 1)
        for name, value in final_stage()
        if name == "ENV"
        for pair in value.split()
    )
    env = {
        **os.environ,
        **{k: v for k, v in image_env.items() if k != "PATH"},
        **compose_environment("service"),
        "PATH": f"{PROJECT_ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "PORT": str(port),
        "POLICY_MATCH_POLICIES_DIR": str(PROJECT_ROOT / "policies"),
        "POLICY_MATCH_DATABASE_URL": postgresql_database,  # compose's names a host "postgres"
    }
    command = json.loads(next(value for name, value in final_stage() if name == "CMD"))
    command[command.index("0.0.0.0")] = "127.0.0.1"
    log = (tmp_path / "service.log").open("wb")
    stderr = (tmp_path / "service.err").open("wb")
    service = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=log, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        ready = None
        for _ in range(200):
            try:
                ready = httpx.get(f"{base}/readyz", timeout=1)
                if ready.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert service.poll() is None, (tmp_path / "service.log").read_text()
            time.sleep(0.1)
        assert ready is not None and ready.status_code == 200
        assert ready.json()["schema_revision"]  # migrated by the command itself
        settings = Settings(jwt_secret=SecretStr(SECRETS["POLICY_MATCH_JWT_SECRET"]))
        token, _ = issue_token(
            subject="platform", scopes=["match"], bank_id=None, settings=settings
        )
        answer = httpx.post(
            f"{base}/v1/match", json=FULL_PROFILE, headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200
        assert httpx.post(f"{base}/v1/auth/token").status_code == 404  # off in production
        assert httpx.get(f"{base}/metrics").status_code == 200
        worker = subprocess.run(
            [*COMPOSE["services"]["worker"]["command"], "--drain"],
            env={**env, **compose_environment("worker")}
            | {"POLICY_MATCH_DATABASE_URL": postgresql_database},
            cwd=tmp_path,
            capture_output=True,
            timeout=120,
        )
        assert worker.returncode == 0, worker.stderr.decode()
    finally:
        service.send_signal(signal.SIGTERM)  # the process is uvicorn itself: it drains and stops
        ended = service.wait(timeout=30)
        log.close()
        output = (tmp_path / "service.log").read_text(encoding="utf-8")
        stderr.close()
        assert ended in (0, -signal.SIGTERM), output  # uvicorn re-raises the signal it obeyed
        lines = [json.loads(line) for line in output.splitlines()]  # stdout: JSON lines only
        assert lines[-1]["message"].startswith("Finished server process")
