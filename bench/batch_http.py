"""Over HTTP, one uvicorn worker: POST /v1/match/batch of 1,000 profiles, against matching the
same profiles in-process, side by side in one run.

Run: .venv/bin/python -m bench.batch_http [--profiles 1000] [--rounds 5] [--view compact]
Starts its own server (bench.common.start_server: JSON logs, metrics, the rate limiter in the
path) and sends the batch of synthetic profiles (service.registry.demo) `rounds` times, one at
a time; after each, in this process, it matches and answers the same profiles without HTTP
(side by side: the machine's load falls on both alike), and again recording each decision as
the server does (its JSON log line written to a file, a batch's lines in one write): the part
of the gap that is the decision log, not HTTP (its lines made after the time is taken, as the
server makes them once it has answered). Prints the median time per batch, profiles per
second, and ratios. With `--view compact` both sides answer compactly (`?view=compact`; issue
14's target: 0.7).
"""

import argparse
import logging
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import orjson

from bench.common import UNLIMITED_RATES, bench_token, free_port, start_server, stop_server
from service.core.i18n import DEFAULT_LANGUAGE
from service.core.logs import JsonFormatter, lean_records
from service.core.migrate import upgrade_database
from service.core.settings import get_settings
from service.matching.answer import VIEWS, View, match_body
from service.matching.cases import load_checked_catalogue
from service.matching.compact_answer import compact_body
from service.matching.decision_log import Decisions, decision_log
from service.matching.match import match
from service.matching.metrics import DecisionTally
from service.policy.profile import Profile
from service.registry.demo import synthetic_profiles

AS_OF = date(2025, 6, 1)


class InProcess:
    """Validate, match and answer profiles as the route does, without HTTP."""

    def __init__(self, view: View) -> None:
        self.catalogue = load_checked_catalogue(get_settings().policies_dir)
        self.view = view
        self.tally = DecisionTally()
        # the decision log as the server writes it: JSON lines to a file
        self.log_file = tempfile.NamedTemporaryFile("w", suffix=".log")  # noqa: SIM115
        handler = logging.StreamHandler(self.log_file)
        handler.setFormatter(JsonFormatter())
        decision_log.addHandler(handler)
        decision_log.propagate = False
        decision_log.setLevel(logging.INFO)
        decision_log.disabled = True
        lean_records()

    def run(self, profiles: list[dict[str, object]], *, logged: bool) -> float:
        """Seconds to answer every profile; with `logged`, each decision counted and kept, and
        the lines written after the time is taken, as the server writes them once it has
        answered."""
        decision_log.disabled = not logged
        started = time.perf_counter()
        # as the route does: each decision counted and kept, the batch's lines made and written
        # together (the server does that once its answer is sent, so they are timed apart)
        decided = Decisions(self.tally, "bench")
        for raw in profiles:
            profile = Profile.model_validate(raw)
            result = match(catalogue=self.catalogue, facts=profile.facts(), as_of=AS_OF)
            if logged:
                decided.record(profile, result)
            if self.view == "compact":
                compact_body(result)
            else:
                match_body(result, profile.county, DEFAULT_LANGUAGE)
        elapsed = time.perf_counter() - started
        decided.write()
        return elapsed


Rounds = tuple[list[float], list[float], list[float]]


def side_by_side(
    profiles: list[dict[str, object]], rounds: int, view: View, log_level: str
) -> Rounds:
    """Seconds of one POST /v1/match/batch holding every profile, of the same in-process, and
    of the same in-process with the decision log, per round; a round of each in turn."""
    token = bench_token("match")
    port = free_port()
    body = orjson.dumps({"profiles": profiles})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    local = InProcess(view)
    times: Rounds = ([], [], [])
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade_database(url)
        server = start_server(port, database_url=url, log_level=log_level, **UNLIMITED_RATES)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
                for i in range(rounds + 1):
                    started = time.perf_counter()
                    answer = client.post(
                        f"/v1/match/batch?as_of={AS_OF}&view={view}",
                        content=body,
                        headers=headers,
                    )
                    elapsed = time.perf_counter() - started
                    assert answer.status_code == 200, answer.text[:300]
                    assert all(r["ok"] for r in answer.json()["results"])
                    plain = local.run(profiles, logged=False)
                    logged = local.run(profiles, logged=True)
                    if i:  # the first is a warm-up
                        for kept, value in zip(times, (elapsed, plain, logged), strict=True):
                            kept.append(value)
        finally:
            stop_server(server)
    return times


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--view", choices=VIEWS, default="full", help="the answers' view")
    parser.add_argument(
        "--log-level",
        default="INFO",
        help="the server's LOG_LEVEL: INFO as deployed (a decision line per profile); WARNING "
        "leaves the decision log out, to see its share",
    )
    args = parser.parse_args()
    profiles = [
        p.model_dump(mode="json", exclude_unset=True)
        for p in synthetic_profiles(args.profiles, seed=20261127)
    ]
    times = side_by_side(profiles, args.rounds, args.view, args.log_level)
    http, local, logged = (statistics.median(t) for t in times)
    # each round's ratio, its three runs adjacent in time: a busy machine weighs on all alike
    ratio = statistics.median(p / h for h, p, _ in zip(*times, strict=True))
    ratio_logged = statistics.median(g / h for h, _, g in zip(*times, strict=True))
    n = len(profiles)
    print(
        f"POST /v1/match/batch?view={args.view} of {n:,} profiles (server LOG_LEVEL "
        f"{args.log_level}): {http * 1000:.0f} ms median of {args.rounds} "
        f"({n / http:,.0f} profiles/s); the same in-process {local * 1000:.0f} ms "
        f"({n / local:,.0f} profiles/s); ratio {ratio:.2f} (median of the rounds' ratios). "
        f"In-process with the decision log written as the server does: {logged * 1000:.0f} ms, "
        f"ratio {ratio_logged:.2f}"
    )


if __name__ == "__main__":
    main()
