"""The compact answer of POST /v1/match (`view=compact`), written straight to JSON bytes.

For volume: the measure ids of each outcome, a near miss's `unmet` as field names and its
`missing_fields`, an undetermined measure's `missing_fields`, and each indicator's id, value
and status. No reasons, no words: a client that shows them reads the catalogue
(GET /v1/measures) once. About a fiftieth of the full answer. The pieces that repeat (each
measure's id, each near miss's fields by what stands in the way, the indicators by the values
they read) are serialised once per catalogue and remembered, as service/matching/answer.py
does for the full answer.
"""

from collections.abc import Mapping
from typing import Any

import orjson

from service.matching.decisions import MatchResult, missing_fields
from service.matching.memory import per_catalogue
from service.policy.catalogue import Catalogue, Measure
from service.policy.evaluator import MISSING

REMEMBERED = 4096  # near-miss pieces and indicator lists remembered, before starting afresh


class _CompactPieces:
    """The remembered pieces of one catalogue's compact answers."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.ids = {m.measure_id: orjson.dumps(m.measure_id) for m in catalogue.measures}
        self.unmet: dict[tuple[str, int], bytes] = {}
        self.indicators: dict[tuple[Any, ...], bytes] = {}
        self.indicator_heads = [
            b'{"id":' + orjson.dumps(i.id) + b',"actual":' for i in catalogue.indicators
        ]
        self.fields = tuple(dict.fromkeys(i.target.field for i in catalogue.indicators))

    def near_miss(self, measure: Measure, known: int) -> bytes:
        """`{"measure_id":…,"unmet":[fields]` (unclosed) of a near miss whose comparisons with
        bits in `known` stand in the way, fields in the measure's order."""
        key = (measure.measure_id, known)
        text = self.unmet.get(key)
        if text is None:
            fields = [c.field for c in measure.comparison_objects if c.bit & known]
            text = b"".join(
                (
                    b'{"measure_id":',
                    self.ids[measure.measure_id],
                    b',"unmet":',
                    orjson.dumps(list(dict.fromkeys(fields))),
                )
            )
            if len(self.unmet) >= REMEMBERED:
                self.unmet.clear()
            self.unmet[key] = text
        return text

    def indicators_body(self, facts: Mapping[str, Any]) -> bytes:
        """The members of the compact `indicators` list, remembered by the values read."""
        key = tuple(facts.get(field, MISSING) for field in self.fields)
        body = self.indicators.get(key)
        if body is None:
            parts = []
            for indicator, head in zip(
                self.catalogue.indicators, self.indicator_heads, strict=True
            ):
                actual = facts.get(indicator.target.field, MISSING)
                parts.append(
                    head
                    + (b"null" if actual is MISSING else orjson.dumps(actual))
                    + b',"status":"'
                    + indicator.status(facts).encode()
                    + b'"}'
                )
            body = b",".join(parts)
            if len(self.indicators) >= REMEMBERED:
                self.indicators.clear()
            self.indicators[key] = body
        return body


_pieces: dict[str, _CompactPieces] = {}


def _pieces_of(catalogue: Catalogue) -> _CompactPieces:
    return per_catalogue(_pieces, catalogue, _CompactPieces)


def compact_body(result: MatchResult) -> bytes:
    """The members of the compact answer object, without its braces (a batch adds to them)."""
    pieces = _pieces_of(result.catalogue)
    ids = pieces.ids
    holds, fails = result.outcome
    near: list[bytes] = []
    append = near.append
    remembered = pieces.unmet
    given = holds | fails
    for measure, change in result.near_measures:
        # what is known and must change goes in `unmet`; what is not given, in `missing_fields`
        unknown = change & ~given
        if unknown:
            missing = missing_fields(measure, unknown, result.facts)
            head = pieces.near_miss(measure, change & given)
            append(head + b',"missing_fields":' + orjson.dumps(missing) + b"}")
            continue
        # the usual case, looked up here: a near miss's whole entry, closed, remembered by
        # the complement of its mask (negative: apart from the open heads near_miss keeps)
        text = remembered.get((measure.measure_id, ~change))
        if text is None:
            text = remembered[measure.measure_id, ~change] = (
                pieces.near_miss(measure, change) + b"}"
            )
        append(text)
    undetermined = [
        b'{"measure_id":' + ids[m.measure_id] + b',"missing_fields":' + orjson.dumps(missing) + b"}"
        for m, missing in result.undetermined_measures
    ]
    return b"".join(
        (
            b'"view":"compact","catalogue_version":',
            orjson.dumps(result.catalogue.version),
            b',"as_of":',
            orjson.dumps(result.as_of),
            b',"matched":[',
            b",".join([ids[m.measure_id] for m in result.matched_measures]),
            b'],"near_misses":[',
            b",".join(near),
            b'],"undetermined":[',
            b",".join(undetermined),
            b'],"indicators":[',
            pieces.indicators_body(result.facts),
            b"]",
        )
    )
