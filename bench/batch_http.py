"""Over HTTP, one uvicorn worker: POST /v1/match/batch of 1,000 profiles, against matching the
same profiles in-process, side by side in one run.

Run: .venv/bin/python -m bench.batch_http [--profiles 1000] [--rounds 5]
Starts its own server (bench.common.start_server: JSON logs, metrics, the rate limiter in the
path) and sends the batch of synthetic profiles (service.registry.demo) `rounds` times, one at
a time;
in the same process it then matches and answers the same profiles without HTTP. Prints the
median time per batch, profiles per second both ways, and the ratio.
"""

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import orjson

from bench.common import UNLIMITED_RATES, bench_token, free_port, start_server, stop_server
from service.core.i18n import DEFAULT_LANGUAGE
from service.core.migrate import upgrade_database
from service.core.settings import get_settings
from service.matching.answer import match_body
from service.matching.cases import load_checked_catalogue
from service.matching.match import match
from service.policy.profile import Profile
from service.registry.demo import synthetic_profiles

AS_OF = date(2025, 6, 1)


def in_process(profiles: list[dict[str, object]], rounds: int) -> float:
    """Median seconds to validate, match and answer every profile without HTTP."""
    catalogue = load_checked_catalogue(get_settings().policies_dir)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for raw in profiles:
            profile = Profile.model_validate(raw)
            result = match(catalogue=catalogue, facts=profile.facts(), as_of=AS_OF)
            match_body(result, profile.county, DEFAULT_LANGUAGE)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def over_http(profiles: list[dict[str, object]], rounds: int) -> float:
    """Median seconds of one POST /v1/match/batch holding every profile."""
    token = bench_token("match")
    port = free_port()
    body = orjson.dumps({"profiles": profiles})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade_database(url)
        server = start_server(port, database_url=url, **UNLIMITED_RATES)
        times = []
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
                for i in range(rounds + 1):
                    started = time.perf_counter()
                    answer = client.post(
                        f"/v1/match/batch?as_of={AS_OF}", content=body, headers=headers
                    )
                    elapsed = time.perf_counter() - started
                    assert answer.status_code == 200, answer.text[:300]
                    assert all(r["ok"] for r in answer.json()["results"])
                    if i:  # the first is a warm-up
                        times.append(elapsed)
        finally:
            stop_server(server)
    return statistics.median(times)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    profiles = [
        p.model_dump(mode="json", exclude_unset=True)
        for p in synthetic_profiles(args.profiles, seed=20261127)
    ]
    http = over_http(profiles, args.rounds)
    local = in_process(profiles, args.rounds)
    n = len(profiles)
    print(
        f"POST /v1/match/batch of {n:,} profiles: {http * 1000:.0f} ms median of {args.rounds} "
        f"({n / http:,.0f} profiles/s); the same in-process {local * 1000:.0f} ms "
        f"({n / local:,.0f} profiles/s); ratio {local / http:.2f}"
    )


if __name__ == "__main__":
    main()
