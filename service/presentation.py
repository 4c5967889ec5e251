"""Catalogue and match results as the JSON the API answers, in the caller's language."""

from typing import Any

import orjson

from service.catalogue import Catalogue, CompiledComparison, Measure
from service.decisions import MatchResult
from service.evaluator import MISSING, Reason, reason
from service.i18n import Language
from service.policy_files import Department

_cache: dict[tuple[str, str, Language], dict[str, Any]] = {}
_head_cache: dict[tuple[str, str, Language], bytes] = {}
_static_cache: dict[tuple[str, int], bytes] = {}
_expected: dict[tuple[str, int], dict[str, Any]] = {}


def department_json(department: Department, language: Language) -> dict[str, str]:
    """A unit as {code, name}."""
    return {"code": department.code, "name": department.name(language)}


def measure_head(catalogue: Catalogue, measure: Measure, language: Language) -> dict[str, Any]:
    """The fields of a MeasureResult that depend only on the measure and the language."""
    key = (catalogue.version, measure.measure_id, language)
    head = _cache.get(key)
    if head is None:
        spec = measure.spec
        head = {
            "measure_id": spec.measure_id,
            "clause": spec.clause,
            "kind": spec.kind,
            "title": spec.title.get(language),
            "finance": spec.finance,
            "lead_department": department_json(measure.departments[0], language),
            "departments": [department_json(d, language) for d in measure.departments],
            "valid_from": spec.valid_from,
            "valid_until": spec.valid_until,
        }
        _cache[key] = head
    return head


def measure_detail(catalogue: Catalogue, measure: Measure, language: Language) -> dict[str, Any]:
    """A measure in full: its head, the plan's words, and its eligibility as written."""
    spec = measure.spec
    clause = catalogue.clauses[spec.clause]
    return {
        **measure_head(catalogue, measure, language),
        "summary": spec.summary.get(language),
        "kind_name": next(
            k.name(language) for k in catalogue.vocabularies.kinds if k.code == spec.kind
        ),
        "clause_heading": clause.heading.get(language),
        "source": {
            "document": catalogue.document.id,
            "document_title": catalogue.document.title.get(language),
            "clause": spec.clause,
            "quote": list(spec.source.quote),
        },
        "eligibility": spec.eligibility.model_dump(mode="json", by_alias=True),
        "conditions": [_static(catalogue, catalogue.comparisons[i]) for i in measure.comparisons],
        "catalogue_version": catalogue.version,
    }


def _static(catalogue: Catalogue, test: CompiledComparison) -> dict[str, Any]:
    key = (catalogue.version, test.index)
    static = _expected.get(key)
    if static is None:
        t = test.comparison
        value = list(t.value) if isinstance(t.value, tuple) else t.value
        static = {"field": t.field, "operator": t.operator.value, "expected": value}
        if t.note:
            static["note"] = t.note
        _expected[key] = static
    return static


_PASSED = {True: b',"passed":true', False: b',"passed":false', None: b',"passed":null'}


def _head_bytes(catalogue: Catalogue, measure: Measure, language: Language) -> bytes:
    key = (catalogue.version, measure.measure_id, language)
    head = _head_cache.get(key)
    if head is None:
        head = orjson.dumps(measure_head(catalogue, measure, language))[:-1]
        _head_cache[key] = head
    return head


def _reason_bytes(catalogue: Catalogue, reason: Reason) -> bytes:
    """One checked condition: field, operator, expected, actual, passed (and notes)."""
    prefix = _static_bytes(catalogue, reason.comparison)
    actual = b"null" if reason.actual is MISSING else orjson.dumps(reason.actual)
    note = b',"note":' + orjson.dumps(reason.note) if reason.note else b""
    return prefix + b',"actual":' + actual + _PASSED[reason.passed] + note + b"}"


def _static_bytes(catalogue: Catalogue, comparison: CompiledComparison) -> bytes:
    key = (catalogue.version, comparison.index)
    found = _static_cache.get(key)
    if found is None:
        found = _static_cache[key] = orjson.dumps(_static(catalogue, comparison))[:-1]
    return found


class _Writer:
    """Writes the decisions of one answer, each comparison's reason serialised once."""

    def __init__(self, result: MatchResult, language: Language, government: str) -> None:
        self.result = result
        self.catalogue = result.catalogue
        self.language = language
        self.government = b',"county_government":' + orjson.dumps(government)
        self.done: dict[int, bytes] = {}

    def reasons_of(self, measure: Measure, mask: int = -1) -> bytes:
        """The JSON array of a measure's reasons (only those with bits in `mask`)."""
        done, result = self.done, self.result
        holds, fails = result.outcome
        parts = []
        for comparison in measure.comparison_objects:
            if comparison.bit & mask:
                text = done.get(comparison.index)
                if text is None:
                    why = reason(comparison, holds, fails, result.facts, result.note)
                    text = done[comparison.index] = _reason_bytes(self.catalogue, why)
                parts.append(text)
        return b"[" + b",".join(parts) + b"]"

    def decision(self, measure: Measure, tail: bytes = b"") -> orjson.Fragment:
        """A MeasureResult; `tail` adds `unmet` or `missing_fields`."""
        return orjson.Fragment(
            b"".join(
                (
                    _head_bytes(self.catalogue, measure, self.language),
                    self.government,
                    b',"reasons":',
                    self.reasons_of(measure),
                    tail,
                    b"}",
                )
            )
        )


def match_json(result: MatchResult, county: str, language: Language) -> dict[str, Any]:
    """The answer of POST /v1/match, ready for orjson (decisions are pre-serialised fragments)."""
    catalogue = result.catalogue
    government = catalogue.vocabularies.county(county).government.get(language)
    w = _Writer(result, language, government)
    return {
        "catalogue_version": catalogue.version,
        "as_of": result.as_of,
        "county_government": government,
        "matched": [w.decision(m) for m in result.matched_measures],
        "near_misses": [
            w.decision(m, b',"unmet":' + w.reasons_of(m, unmet))
            for m, unmet in result.near_measures
        ],
        "undetermined": [
            w.decision(m, b',"missing_fields":' + orjson.dumps(missing))
            for m, missing in result.undetermined_measures
        ],
    }
