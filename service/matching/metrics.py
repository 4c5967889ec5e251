"""The matching's own metric: `policy_match_decisions_total{measure_id, outcome}`, the decisions
the matching endpoints answered, per measure (matched, near_miss, undetermined).

Counted in plain Counters on the hot path (about a microsecond a match) and read out when
scraped; each application holds its own tally (service/api/metrics.py registers it).
"""

from collections import Counter
from collections.abc import Iterator
from operator import attrgetter, itemgetter

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from service.matching.decisions import MatchResult

_measure_id = attrgetter("measure_id")
_first = itemgetter(0)


class DecisionTally(Collector):
    """How often each measure was answered matched, a near miss or undetermined."""

    def __init__(self) -> None:
        self.matched: Counter[str] = Counter()
        self.near_miss: Counter[str] = Counter()
        self.undetermined: Counter[str] = Counter()

    def add(self, result: MatchResult) -> None:
        """Count one answered match."""
        self.matched.update(map(_measure_id, result.matched_measures))
        self.near_miss.update(map(_measure_id, map(_first, result.near_measures)))
        self.undetermined.update(map(_measure_id, map(_first, result.undetermined_measures)))

    def collect(self) -> Iterator[Metric]:
        """The tally as one Prometheus counter family."""
        family = CounterMetricFamily(
            "policy_match_decisions",
            "Decisions answered by the matching endpoints, by measure and outcome",
            labels=["measure_id", "outcome"],
        )
        for outcome in ("matched", "near_miss", "undetermined"):
            for measure_id, count in dict(getattr(self, outcome)).items():
                family.add_metric([measure_id, outcome], count)
        yield family
