"""The decision log (`policy_match.decisions`): one line for each answered match, saying who
asked and the measures matched, nearly matched and undetermined, with the credit code and the
name masked; and the match counted for /metrics.

A batch's lines are written together (`Decisions`): still a line per profile, each with the time
of its own decision, but one write for all of them, made once the answer is sent (the caller
does not wait for the log). The outcomes' ids and their JSON are made once per distinct outcome
(decided_ids.py).
"""

import logging
import time
from functools import partial
from typing import Any

import orjson

from service.core.logs import JsonLines, mask_credit_code, mask_name
from service.matching.decided_ids import DecidedIds, decided_ids
from service.matching.decisions import MatchResult
from service.matching.metrics import DecisionTally
from service.policy.profile import Profile

decision_log = logging.getLogger("policy_match.decisions")


Kept = tuple[str | None, str | None, str, str | None, DecidedIds, float]
"""A decision as kept until its line is made: credit code, name, county, tier, outcome, time."""


def _firm_fields(caller: str, kept: Kept, as_of: str, version: str) -> dict[str, Any]:
    """The line's fields but the outcomes: who asked, the firm (masked), the day."""
    uscc, name, county, tier = kept[:4]
    return {
        "caller": caller,
        "uscc": mask_credit_code(uscc) if uscc else None,
        "name": mask_name(name) if name else None,
        "county": county,
        "tier": tier,
        "as_of": as_of,
        "catalogue_version": version,
    }


def _fields(caller: str, kept: Kept, as_of: str, version: str) -> dict[str, Any]:
    """The line's fields, the outcomes' ids included."""
    ids = kept[4]
    return {
        **_firm_fields(caller, kept, as_of, version),
        "matched": list(ids.matched),
        "near_misses": list(ids.near_misses),
        "undetermined": list(ids.undetermined),
    }


class Decisions:
    """The decisions of one request: each counted for /metrics as it is made and kept (a few
    strings and its outcome, not the profile and the result); `write` makes their lines and
    writes them together, in one write. POST /v1/match/batch writes once its answer is sent."""

    def __init__(self, tally: DecisionTally, caller: str) -> None:
        self.tally, self.caller = tally, caller
        self.lines = JsonLines(decision_log, logging.INFO, "match")  # the request's id now
        self.kept: list[Kept] = []
        self.day: tuple[str, str] = ("", "")  # as_of and catalogue version, the same for all

    def record(self, profile: Profile, result: MatchResult) -> None:
        """Count a decision and keep what its line says."""
        ids = decided_ids(result)
        self.tally.add_decided(ids)
        if self.lines.enabled:
            if not self.kept:
                self.day = (result.as_of.isoformat(), result.catalogue.version)
            firm = (profile.uscc, profile.name, profile.county, profile.tier)
            self.kept.append((*firm, ids, time.time()))

    def write(self) -> None:
        """Make the kept decisions' lines, each at its decision's time, and write them."""
        kept, self.kept = self.kept, []
        lines, caller, (as_of, version) = self.lines, self.caller, self.day
        for decision in kept:
            own = orjson.dumps(_firm_fields(caller, decision, as_of, version))
            lines.add_encoded(
                own[:-1] + b"," + decision[4].members + b"}",
                partial(_fields, caller, decision, as_of, version),
                decision[5],
            )
        lines.write()


def record_decision(
    decisions: DecisionTally, caller: str, profile: Profile, result: MatchResult
) -> None:
    """Count an answered match for /metrics and write its decision log line (masked)."""
    # the line made directly, with no LogRecord or Formatter: the logger's search of the
    # stack for the caller and the record's thread and process look-ups took half its cost
    one = Decisions(decisions, caller)
    one.record(profile, result)
    one.write()
