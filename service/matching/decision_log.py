"""The decision log (`policy_match.decisions`): one line for each answered match, saying who
asked and the measures matched, nearly matched and undetermined, with the credit code and the
name masked; and the match counted for /metrics.

A batch's lines are written together when the batch is answered (`logged_decisions`): still a
line per profile, each with the time of its own decision, but one write for all of them. The
outcomes' ids and their JSON are made once per distinct outcome (decided_ids.py).
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from service.core.logs import JsonLines, mask_credit_code, mask_name
from service.matching.decided_ids import decided_ids
from service.matching.decisions import MatchResult
from service.matching.metrics import DecisionTally
from service.policy.profile import Profile

decision_log = logging.getLogger("policy_match.decisions")


def firm_fields(caller: str, profile: Profile, result: MatchResult) -> dict[str, Any]:
    """The decision line's fields but the outcomes: who asked, the firm (masked), the day."""
    return {
        "caller": caller,
        "uscc": mask_credit_code(profile.uscc) if profile.uscc else None,
        "name": mask_name(profile.name) if profile.name else None,
        "county": profile.county,
        "tier": profile.tier,
        "as_of": result.as_of.isoformat(),
        "catalogue_version": result.catalogue.version,
    }


def decision_fields(caller: str, profile: Profile, result: MatchResult) -> dict[str, Any]:
    """The decision line's own fields: who asked, the firm (masked), the day and the outcomes."""
    ids = decided_ids(result)
    return {
        **firm_fields(caller, profile, result),
        "matched": list(ids.matched),
        "near_misses": list(ids.near_misses),
        "undetermined": list(ids.undetermined),
    }


def _add_decision(
    lines: JsonLines, decisions: DecisionTally, caller: str, profile: Profile, result: MatchResult
) -> None:
    """Count a match and add its decision line: the firm's fields encoded, the outcomes' JSON
    taken as it was made for the first match that came out the same."""
    ids = decided_ids(result)
    decisions.add_decided(ids)
    if lines.enabled:
        own = orjson.dumps(firm_fields(caller, profile, result))
        lines.add_encoded(
            own[:-1] + b"," + ids.members + b"}",
            lambda: decision_fields(caller, profile, result),
        )


def record_decision(
    decisions: DecisionTally, caller: str, profile: Profile, result: MatchResult
) -> None:
    """Count an answered match for /metrics and write its decision log line (masked)."""
    # the line made directly, with no LogRecord or Formatter: the logger's search of the
    # stack for the caller and the record's thread and process look-ups took half its cost
    lines = JsonLines(decision_log, logging.INFO, "match")
    _add_decision(lines, decisions, caller, profile, result)
    lines.write()


@contextmanager
def logged_decisions(
    decisions: DecisionTally, caller: str
) -> Iterator[Callable[[Profile, MatchResult], None]]:
    """A recorder for a batch's matches: each counted and its decision line made at once, the
    lines written together in one write when the block ends (an error in it included)."""
    lines = JsonLines(decision_log, logging.INFO, "match")

    def record(profile: Profile, result: MatchResult) -> None:
        _add_decision(lines, decisions, caller, profile, result)

    try:
        yield record
    finally:
        lines.write()
