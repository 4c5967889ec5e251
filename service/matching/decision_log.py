"""The decision log (`policy_match.decisions`): one line for each answered match, saying who
asked and the measures matched, nearly matched and undetermined, with the credit code and the
name masked; and the match counted for /metrics."""

import logging

from service.core.logs import mask_credit_code, mask_name
from service.matching.decisions import MatchResult
from service.matching.metrics import DecisionTally
from service.policy.profile import Profile

decision_log = logging.getLogger("policy_match.decisions")


def record_decision(
    decisions: DecisionTally, caller: str, profile: Profile, result: MatchResult
) -> None:
    """Count an answered match for /metrics and write its decision log line (masked)."""
    decisions.add(result)
    if not decision_log.isEnabledFor(logging.INFO):
        return
    # a record made and handled directly: the logger's search of the stack for the caller
    # (its file and line, which the JSON lines do not show) took a quarter of the line's cost
    record = decision_log.makeRecord(
        decision_log.name,
        logging.INFO,
        __file__,
        0,
        "match",
        (),
        None,
        extra={
            "fields": {
                "caller": caller,
                "uscc": mask_credit_code(profile.uscc) if profile.uscc else None,
                "name": mask_name(profile.name) if profile.name else None,
                "county": profile.county,
                "tier": profile.tier,
                "as_of": result.as_of.isoformat(),
                "catalogue_version": result.catalogue.version,
                "matched": [m.measure_id for m in result.matched_measures],
                "near_misses": [m.measure_id for m, _ in result.near_measures],
                "undetermined": [m.measure_id for m, _ in result.undetermined_measures],
            }
        },
    )
    decision_log.handle(record)
