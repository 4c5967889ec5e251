"""In-process: what metrics and logs cost a request, measured side by side in one run.

Run: .venv/bin/python -m bench.observability [--requests 3000]
Drives the ASGI application directly (no network, no server), on GET /healthz and POST /v1/match
(the full example profile, a bearer token, the rate limiter in the path): first with metrics
and logs off, then with Prometheus metrics on, then with metrics and the JSON logs on (an access
line per request and a decision line per match, written to /dev/null). Prints microseconds per
request, median of three passes each.
"""

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import orjson
from pydantic import SecretStr

from service.api.auth import issue_token
from service.core.logs import configure_logging
from service.core.migrate import upgrade_database
from service.core.settings import Settings
from service.main import create_app
from service.policy.examples import FULL_PROFILE

SETTINGS = Settings(
    environment="test",
    jwt_secret=SecretStr("bench-secret-not-for-production-0001"),
    push_worker_in_process=False,
    rate_limit_match="100000000/minute",
    log_json=False,
)


async def per_request(
    app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes, n: int
) -> float:
    """Microseconds per request of `n` calls of the application (after 200 to warm up)."""

    async def call() -> int:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        status: list[int] = []

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": method,
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "scheme": "http",
            "root_path": "",
        }
        await app(scope, receive, send)
        return status[0]

    for _ in range(200):
        assert await call() == 200
    started = time.perf_counter()
    for _ in range(n):
        await call()
    return (time.perf_counter() - started) / n * 1e6


async def measure(requests: int) -> dict[str, tuple[float, float]]:
    """(GET /healthz, POST /v1/match) microseconds for each configuration."""
    folder = tempfile.mkdtemp()
    url = f"sqlite:///{Path(folder) / 'bench.db'}"
    upgrade_database(url)
    token, _ = issue_token(subject="bench", scopes=["match"], bank_id=None, settings=SETTINGS)
    body = orjson.dumps(FULL_PROFILE)
    match_headers = [
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    devnull = open("/dev/null", "w")  # noqa: SIM115 - the log handler's stream for the run
    configurations = {
        "metrics and logs off": (False, False),
        "metrics on": (True, False),
        "metrics and JSON logs on": (True, True),
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in configurations}
    apps = {
        name: create_app(SETTINGS.model_copy(update={"database_url": url, "metrics_enabled": m}))
        for name, (m, _) in configurations.items()
    }
    for _ in range(3):
        for name, (_, logs) in configurations.items():
            app = apps[name]
            async with app.router.lifespan_context(app):
                if logs:
                    configure_logging("INFO")
                    handler = logging.getLogger().handlers[0]
                    assert isinstance(handler, logging.StreamHandler)
                    handler.setStream(devnull)
                else:
                    logging.getLogger().setLevel(logging.WARNING)
                get = await per_request(app, "GET", "/healthz", [], b"", requests)
                post = await per_request(app, "POST", "/v1/match", match_headers, body, requests)
                results[name].append((get, post))
    devnull.close()
    return {
        name: (statistics.median(g for g, _ in runs), statistics.median(p for _, p in runs))
        for name, runs in results.items()
    }


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    results = asyncio.run(measure(args.requests))
    base_get, base_post = results["metrics and logs off"]
    print(f"{'configuration':28s} {'GET /healthz':>14s} {'POST /v1/match':>16s}")
    for name, (get, post) in results.items():
        print(f"{name:28s} {get:11.1f} µs {post:13.1f} µs")
    get, post = results["metrics and JSON logs on"]
    print(
        f"metrics and JSON logs cost GET /healthz {get - base_get:.0f} µs "
        f"({get / base_get:.2f}x) and POST /v1/match {post - base_post:.0f} µs "
        f"({post / base_post:.2f}x), in-process, median of 3 passes of {args.requests}"
    )


if __name__ == "__main__":
    main()
