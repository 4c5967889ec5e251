"""A match's outcome as the decision log and the decision tally keep it: the measure ids of
each outcome, with their JSON, made once for every answer that comes out the same.

Firms fall into few outcomes (a batch of 1,000 synthetic firms into about 270): the lists of
ids, their JSON and their count are made the first time an outcome is seen and looked up by
the result's own tuples after that (measures hash by identity, so the look-up is a C-level hash
of the tuples, not a Python loop over their ids). Bounded: past `MAX_OUTCOMES` the cache starts
again.
"""

from dataclasses import dataclass
from operator import attrgetter, itemgetter

import orjson

from service.matching.decisions import MatchResult

MAX_OUTCOMES = 4096
_measure_id = attrgetter("measure_id")
_first = itemgetter(0)


@dataclass(frozen=True, slots=True, eq=False)
class DecidedIds:
    """The ids of the measures matched, nearly matched and undetermined, and their JSON members
    (`"matched":[…],"near_misses":[…],"undetermined":[…]`, no braces)."""

    matched: tuple[str, ...]
    near_misses: tuple[str, ...]
    undetermined: tuple[str, ...]
    members: bytes


_Key = tuple[object, object, object]
_known: dict[_Key, DecidedIds] = {}


def decided_ids(result: MatchResult) -> DecidedIds:
    """The ids of a match's outcomes, made once per distinct outcome."""
    key = (result.matched_measures, result.near_measures, result.undetermined_measures)
    found = _known.get(key)
    if found is None:
        found = _decided(result)
        if len(_known) >= MAX_OUTCOMES:
            _known.clear()
        _known[key] = found
    return found


def _decided(result: MatchResult) -> DecidedIds:
    """The ids made from the result's measures."""
    matched = tuple(map(_measure_id, result.matched_measures))
    near = tuple(map(_measure_id, map(_first, result.near_measures)))
    undetermined = tuple(map(_measure_id, map(_first, result.undetermined_measures)))
    members = orjson.dumps({"matched": matched, "near_misses": near, "undetermined": undetermined})[
        1:-1
    ]
    return DecidedIds(matched, near, undetermined, members)
