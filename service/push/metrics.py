"""The push worker's counters, shown at GET /metrics (service/api/metrics.py registers them).

- `policy_match_push_attempts_total{outcome}`: delivery attempts of this process's worker
  (delivered, retry, dead, gone, stale): failures are everything but delivered.

The database's gauges (the outbox by state, subscriptions by state) are service/push/gauges.py.
"""

from prometheus_client import Counter

# Not in the global registry: each application's registry takes it (several in the tests).
PUSH_ATTEMPTS = Counter(
    "policy_match_push_attempts",
    "Push delivery attempts by this process's worker, by outcome",
    ["outcome"],
    registry=None,
)
for _outcome in ("delivered", "retry", "dead", "gone", "stale"):
    PUSH_ATTEMPTS.labels(_outcome)  # shown at 0 from the start
