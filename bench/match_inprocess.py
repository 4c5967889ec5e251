"""In-process matching speed: one full profile against the whole catalogue, with reasons.

Run: .venv/bin/python -m bench.match_inprocess [--rounds N]
Prints the median time of `match()` (decisions with every reason) and, side by side in the same
run, of `match()` plus building the JSON-ready answer, and of validating the profile.
"""

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date

from service.core.settings import get_settings
from service.matching.answer import match_answer
from service.matching.cases import load_checked_catalogue
from service.matching.match import match
from service.policy.examples import FULL_PROFILE
from service.policy.profile import Profile


def median_us(step: Callable[[], object], rounds: int) -> float:
    """Median wall time of one call in microseconds, after a warm-up."""
    for _ in range(min(rounds, 2000)):
        step()
    samples = []
    clock = time.perf_counter_ns
    for _ in range(rounds):
        start = clock()
        step()
        samples.append(clock() - start)
    return statistics.median(samples) / 1000


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20_000)
    rounds = parser.parse_args().rounds
    catalogue = load_checked_catalogue(get_settings().policies_dir)
    profile = Profile.model_validate(FULL_PROFILE)
    facts = profile.facts()
    day = date(2025, 6, 1)
    result = match(catalogue=catalogue, facts=facts, as_of=day)
    reasons = sum(
        len(d.reasons) for d in (*result.matched, *result.near_misses, *result.undetermined)
    )
    print(
        f"catalogue {catalogue.version}: {len(catalogue.measures)} measures, "
        f"{len(catalogue.comparisons)} distinct comparisons"
    )
    print(
        f"full profile: {len(result.matched)} matched, {len(result.near_misses)} near misses, "
        f"{len(result.undetermined)} undetermined, {reasons} reasons"
    )
    figures = {
        "match (decisions with reasons)": median_us(
            lambda: match(catalogue=catalogue, facts=facts, as_of=day), rounds
        ),
        "match + JSON answer (bytes)": median_us(
            lambda: match_answer(
                match(catalogue=catalogue, facts=facts, as_of=day), profile.county, "zh-Hans"
            ),
            rounds,
        ),
        "profile validation (JSON -> Profile)": median_us(
            lambda: Profile.model_validate(FULL_PROFILE), rounds
        ),
    }
    for name, micros in figures.items():
        print(f"{name:40s} median {micros:8.2f} µs")
    base = figures["match (decisions with reasons)"]
    print(f"target: match median <= 20 µs -> {'PASS' if base <= 20 else 'FAIL'} ({base:.2f} µs)")


if __name__ == "__main__":
    main()
