"""A match's outcome ids, made once per distinct outcome, and the decision tally that counts
outcomes and spreads them over the measures when read."""

from collections import Counter
from datetime import UTC, datetime

import orjson
import pytest

from service.core.logs import timestamp
from service.matching import decided_ids as module
from service.matching.decided_ids import decided_ids
from service.matching.match import MatchResult, match
from service.matching.metrics import DecisionTally
from service.registry.demo import synthetic_profiles
from tests.factories import DAY, real_catalogue

REAL = real_catalogue()


def _results(count: int) -> list[MatchResult]:
    profiles = synthetic_profiles(count, seed=7)
    return [match(catalogue=REAL, facts=p.facts(), as_of=DAY) for p in profiles]


def _ids(result: MatchResult) -> tuple[list[str], list[str], list[str]]:
    return (
        [m.measure_id for m in result.matched_measures],
        [m.measure_id for m, _ in result.near_measures],
        [m.measure_id for m, _ in result.undetermined_measures],
    )


def test_the_ids_and_their_json_are_the_results_own_and_made_once_per_outcome() -> None:
    results = _results(300)
    seen: dict[tuple[tuple[str, ...], ...], object] = {}
    for result in results:
        ids = decided_ids(result)
        matched, near, undetermined = _ids(result)
        assert (list(ids.matched), list(ids.near_misses), list(ids.undetermined)) == (
            matched,
            near,
            undetermined,
        )
        members = orjson.loads(b"{" + ids.members + b"}")
        assert members == {"matched": matched, "near_misses": near, "undetermined": undetermined}
        assert decided_ids(result) is ids  # looked up, not made again
        key = (ids.matched, ids.near_misses, ids.undetermined)
        seen.setdefault(key, ids)
    assert len(seen) < len(results)  # firms share outcomes


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "MAX_OUTCOMES", 5)
    module._known.clear()
    for result in _results(60):
        decided_ids(result)
        assert len(module._known) <= 5


def test_the_tally_counts_each_measure_as_counting_them_one_by_one_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    results = _results(200)
    expected = {
        "matched": Counter[str](),
        "near_miss": Counter[str](),
        "undetermined": Counter[str](),
    }
    for result in results:
        matched, near, undetermined = _ids(result)
        expected["matched"].update(matched)
        expected["near_miss"].update(near)
        expected["undetermined"].update(undetermined)
    tally = DecisionTally()
    monkeypatch.setattr(DecisionTally, "MAX_PENDING", 3)  # spread while counting, too
    for result in results:
        tally.add(result)
    read = {
        (sample.labels["measure_id"], sample.labels["outcome"]): sample.value
        for family in tally.collect()
        for sample in family.samples
        if sample.name.endswith("_total")
    }
    for outcome, counts in expected.items():
        for measure_id, count in counts.items():
            assert read[(measure_id, outcome)] == count
    assert sum(read.values()) == sum(sum(c.values()) for c in expected.values())


def test_a_lines_time_is_the_formatters_to_the_millisecond() -> None:
    for moment in (0.0, 1.9995, 1_733_000_000.123456, 1_733_000_000.9999996, 1_764_547_199.9994):
        expected = datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")
        assert timestamp(moment) == expected
