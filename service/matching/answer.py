"""The answer of POST /v1/match, written straight to JSON bytes.

A match answer repeats itself: each comparison's reason stands in every measure that makes it,
and each measure's head is the same for every firm of a county. So each measure's head (per
county and language) and each comparison's reason (per outcome and value) are serialised once
and remembered; an answer is joined from those pieces, which keeps a 50-measure answer cheap.
"""

from collections.abc import Callable
from datetime import date
from operator import itemgetter
from typing import Any, Literal

import orjson

from service.core.i18n import LANGUAGES, Language
from service.matching.compact_answer import compact_body
from service.matching.decisions import MatchResult, missing_fields
from service.matching.indicator_answer import IndicatorPieces
from service.matching.match import match
from service.matching.memory import per_catalogue
from service.matching.presentation import (
    condition_json,
    county_discretion_note,
    measure_head,
    tier_note_text,
)
from service.policy.catalogue import Catalogue, Measure
from service.policy.evaluator import MISSING, NOTED_FIELDS, TierNote
from service.policy.profile import Profile

_PASSED = {True: b',"passed":true', False: b',"passed":false', None: b',"passed":null'}
REMEMBERED = 10_000  # reasons remembered per comparison, before starting afresh
_FEW_VALUES = (str, bool, type(None), type(MISSING))


Joiner = Callable[[list[bytes]], bytes]


def _joiner(indices: tuple[int, ...]) -> Joiner:
    """Joins the reason texts at `indices` with commas."""
    if len(indices) == 1:
        only = indices[0]
        return lambda texts: texts[only]
    pick = itemgetter(*indices)
    return lambda texts: b",".join(pick(texts))


class _Pieces:
    """The remembered pieces of one catalogue's answers."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.heads: dict[tuple[str, Language], dict[str, tuple[bytes, Joiner]]] = {}
        # per comparison: its reason texts by the value read
        by_field: dict[str, list[tuple[int, int, dict[Any, bytes]]]] = {}
        for c in catalogue.comparisons:
            by_field.setdefault(c.field, []).append((c.index, c.bit, {}))
        self.plan = [(f, f in NOTED_FIELDS, group) for f, group in by_field.items()]
        self.unmet: dict[tuple[str, int], Joiner] = {}
        self.conditions = {
            language: [
                orjson.dumps(condition_json(catalogue, c, language))[:-1]
                for c in catalogue.comparisons
            ]
            for language in LANGUAGES
        }
        self.indicators = IndicatorPieces(catalogue)

    def heads_for(self, county: str, language: Language) -> dict[str, tuple[bytes, Joiner]]:
        """Each measure's JSON up to its reasons, for firms of `county`, and its joiner."""
        key = (county, language)
        heads = self.heads.get(key)
        if heads is None:
            government = self.catalogue.vocabularies.county(county).government.get(language)
            middle = b',"county_government":' + orjson.dumps(government) + b',"reasons":['
            # a measure left to the counties says, on every result, that this county decides
            decides = b',"county_discretion_note":' + orjson.dumps(
                county_discretion_note(self.catalogue, county, language)
            )
            heads = self.heads[key] = {
                m.measure_id: (
                    orjson.dumps(measure_head(self.catalogue, m, language))[:-1]
                    + (decides if m.spec.county_discretion else b"")
                    + middle,
                    _joiner(m.comparisons),
                )
                for m in self.catalogue.measures
            }
        return heads

    def reason_texts(self, result: MatchResult, language: Language) -> list[bytes]:
        """Every comparison's reason as JSON, indexed like the catalogue's comparisons.

        A reason is remembered by the value read and the language (and the note, where one
        applies): on the facts as read, the value decides whether the comparison passed. Only
        values from a short list (codes, yes/no, unknown, small counts) are remembered: amounts
        are nearly as many as there are firms.
        """
        facts, note = result.facts, result.note
        holds, fails = result.outcome
        texts: list[bytes] = [b""] * len(self.catalogue.comparisons)
        for field, noted, comparisons in self.plan:
            actual = facts.get(field, MISSING)
            key = (actual, note, language) if noted and note else (actual, language)
            few = type(actual) in _FEW_VALUES or (type(actual) is int and -1000 < actual < 1000)
            for index, bit, remembered in comparisons:
                text = remembered.get(key) if few else None
                if text is None:
                    passed = True if holds & bit else False if fails & bit else None
                    text = self._reason_text(
                        index, passed, actual, note if noted else None, language
                    )
                    if few:
                        if len(remembered) >= REMEMBERED:
                            remembered.clear()
                        remembered[key] = text
                texts[index] = text
        return texts

    def _reason_text(
        self,
        index: int,
        passed: bool | None,
        actual: Any,
        note: TierNote | None,
        language: Language,
    ) -> bytes:
        explained = tier_note_text(self.catalogue, note, language) if note else None
        return b"".join(
            (
                self.conditions[language][index],
                b',"actual":',
                b"null" if actual is MISSING else orjson.dumps(actual),
                _PASSED[passed],
                b',"actual_note":' + orjson.dumps(explained) if explained else b"",
                b"}",
            )
        )

    def unmet_joiner(self, measure: Measure, mask: int) -> Joiner:
        """Joins the reasons of a measure's comparisons whose bits are in `mask`."""
        key = (measure.measure_id, mask)
        join = self.unmet.get(key)
        if join is None:
            chosen = tuple(c.index for c in measure.comparison_objects if c.bit & mask)
            join = self.unmet[key] = _joiner(chosen)
        return join


_pieces: dict[str, _Pieces] = {}


def _pieces_of(catalogue: Catalogue) -> _Pieces:
    return per_catalogue(_pieces, catalogue, _Pieces)


def match_body(result: MatchResult, county: str, language: Language) -> bytes:
    """The members of the answer object, without its braces (so a batch can add to them)."""
    pieces = _pieces_of(result.catalogue)
    heads = pieces.heads_for(county, language)
    texts = pieces.reason_texts(result, language)
    holds, fails = result.outcome

    def decision(measure: Measure, tail: bytes = b"]}") -> bytes:
        head, join = heads[measure.measure_id]
        return head + join(texts) + tail

    def unmet(measure: Measure, change: int) -> bytes:
        # what is known and must change goes in `unmet`; what is not given, in `missing_fields`
        known = change & (holds | fails)
        text = b'],"unmet":[' + pieces.unmet_joiner(measure, known)(texts) + b"]"
        unknown = change & ~(holds | fails)
        if unknown:
            text += b',"missing_fields":' + orjson.dumps(
                missing_fields(measure, unknown, result.facts)
            )
        return text + b"}"

    matched = [
        head + join(texts) + b"]}"
        for head, join in [heads[m.measure_id] for m in result.matched_measures]
    ]
    near = [decision(m, unmet(m, mask)) for m, mask in result.near_measures]
    undetermined = [
        decision(m, b'],"missing_fields":' + orjson.dumps(missing) + b"}")
        for m, missing in result.undetermined_measures
    ]
    government = result.catalogue.vocabularies.county(county).government.get(language)
    return b"".join(
        (
            b'"catalogue_version":',
            orjson.dumps(result.catalogue.version),
            b',"as_of":',
            orjson.dumps(result.as_of),
            b',"county_government":',
            orjson.dumps(government),
            b',"matched":[',
            b",".join(matched),
            b'],"near_misses":[',
            b",".join(near),
            b'],"undetermined":[',
            b",".join(undetermined),
            b'],"indicators":[',
            pieces.indicators.body(result.facts, language),
            b"]",
        )
    )


def match_answer(result: MatchResult, county: str, language: Language) -> bytes:
    """The whole answer of POST /v1/match as JSON."""
    return b"{" + match_body(result, county, language) + b"}"


Recorder = Callable[[Profile, MatchResult], object]
View = Literal["full", "compact"]
VIEWS: tuple[View, ...] = ("full", "compact")


def answer_profile(
    catalogue: Catalogue,
    profile: Profile,
    *,
    as_of: date,
    language: Language,
    record: Recorder,
    whole: bool = True,
    view: View = "full",
) -> bytes:
    """Match a profile on `as_of`, record the decision, and answer it as POST /v1/match does.

    With `whole=False`, the members of the answer without its braces, for a batch's item;
    with `view="compact"`, the compact answer (service/matching/compact_answer.py).
    """
    result = match(catalogue=catalogue, facts=profile.facts(), as_of=as_of)
    record(profile, result)
    if view == "compact":
        body = compact_body(result)
    else:
        body = match_body(result, profile.county, language)
    return b"{" + body + b"}" if whole else body
