"""The decision log (`policy_match.decisions`): one line for each answered match, saying who
asked and the measures matched, nearly matched and undetermined, with the credit code and the
name masked; and the match counted for /metrics.

A batch's lines are written together when the batch is answered (`logged_decisions`): still a
line per profile, each with the time of its own decision, but one write for all of them.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from operator import attrgetter, itemgetter
from typing import Any

from service.core.logs import JsonLines, mask_credit_code, mask_name
from service.matching.decisions import MatchResult
from service.matching.metrics import DecisionTally
from service.policy.profile import Profile

decision_log = logging.getLogger("policy_match.decisions")
_measure_id = attrgetter("measure_id")
_first = itemgetter(0)


def decision_fields(caller: str, profile: Profile, result: MatchResult) -> dict[str, Any]:
    """The decision line's own fields: who asked, the firm (masked), the day and the outcomes."""
    return {
        "caller": caller,
        "uscc": mask_credit_code(profile.uscc) if profile.uscc else None,
        "name": mask_name(profile.name) if profile.name else None,
        "county": profile.county,
        "tier": profile.tier,
        "as_of": result.as_of.isoformat(),
        "catalogue_version": result.catalogue.version,
        "matched": list(map(_measure_id, result.matched_measures)),
        "near_misses": list(map(_measure_id, map(_first, result.near_measures))),
        "undetermined": list(map(_measure_id, map(_first, result.undetermined_measures))),
    }


def record_decision(
    decisions: DecisionTally, caller: str, profile: Profile, result: MatchResult
) -> None:
    """Count an answered match for /metrics and write its decision log line (masked)."""
    decisions.add(result)
    if decision_log.isEnabledFor(logging.INFO):
        # the line made directly, with no LogRecord or Formatter: the logger's search of the
        # stack for the caller and the record's thread and process look-ups took half its cost
        line = JsonLines(decision_log, logging.INFO, "match")
        line.add(decision_fields(caller, profile, result))
        line.write()


@contextmanager
def logged_decisions(
    decisions: DecisionTally, caller: str
) -> Iterator[Callable[[Profile, MatchResult], None]]:
    """A recorder for a batch's matches: each counted and its decision line made at once, the
    lines written together in one write when the block ends (an error in it included)."""
    lines = JsonLines(decision_log, logging.INFO, "match")

    def record(profile: Profile, result: MatchResult) -> None:
        if lines.enabled:
            fields = decision_fields(caller, profile, result)
            # counted from the line's own lists of ids: taking them from the result again
            # was a third of the cost of the tally
            decisions.matched.update(fields["matched"])
            decisions.near_miss.update(fields["near_misses"])
            decisions.undetermined.update(fields["undetermined"])
            lines.add(fields)
        else:
            decisions.add(result)

    try:
        yield record
    finally:
        lines.write()
