"""The matching's own metric: `policy_match_decisions_total{measure_id, outcome}`, the decisions
the matching endpoints answered, per measure (matched, near_miss, undetermined).

Counted by outcome on the hot path (a dictionary increment a match) and spread over the
measures when scraped; each application holds its own tally (service/api/metrics.py registers it).
"""

import threading
from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from service.matching.decided_ids import DecidedIds, decided_ids
from service.matching.decisions import MatchResult


class DecisionTally(Collector):
    """How often each measure was answered matched, a near miss or undetermined.

    A match adds one to the count of its outcome (service/matching/decided_ids.py), not one to
    each of its ~50 measures: the outcomes are spread over the measures when scraped, or when
    more than `MAX_PENDING` distinct ones wait."""

    MAX_PENDING = 4096

    def __init__(self) -> None:
        self.matched: Counter[str] = Counter()
        self.near_miss: Counter[str] = Counter()
        self.undetermined: Counter[str] = Counter()
        self._pending: Counter[DecidedIds] = Counter()
        self._lock = threading.Lock()

    def add(self, result: MatchResult) -> None:
        """Count one answered match."""
        self.add_decided(decided_ids(result))

    def add_decided(self, ids: DecidedIds) -> None:
        """Count one answered match by its outcome's ids."""
        with self._lock:
            self._pending[ids] += 1
            if len(self._pending) > self.MAX_PENDING:
                self._spread()

    def _spread(self) -> None:
        """Add the waiting outcomes' counts to each of their measures (under the lock)."""
        pending, self._pending = self._pending, Counter()
        for ids, count in pending.items():
            for measure_id in ids.matched:
                self.matched[measure_id] += count
            for measure_id in ids.near_misses:
                self.near_miss[measure_id] += count
            for measure_id in ids.undetermined:
                self.undetermined[measure_id] += count

    def collect(self) -> Iterator[Metric]:
        """The tally as one Prometheus counter family."""
        family = CounterMetricFamily(
            "policy_match_decisions",
            "Decisions answered by the matching endpoints, by measure and outcome",
            labels=["measure_id", "outcome"],
        )
        with self._lock:
            self._spread()
        for outcome in ("matched", "near_miss", "undetermined"):
            for measure_id, count in dict(getattr(self, outcome)).items():
                family.add_metric([measure_id, outcome], count)
        yield family
