"""Catalogue and match results as the JSON the API answers, in the caller's language."""

from typing import Any

import orjson

from service.catalogue import Catalogue, CompiledComparison, Measure
from service.i18n import Language
from service.matching import MISSING, Decision, MatchResult, Reason
from service.policy_files import Department

_cache: dict[tuple[str, str, Language], dict[str, Any]] = {}
_head_cache: dict[tuple[str, str, Language], bytes] = {}
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
            "summary": spec.summary.get(language),
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
        "kind_name": next(k.name(language) for k in catalogue.vocabularies.kinds
                          if k.code == spec.kind),
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
    prefix = orjson.dumps(_static(catalogue, reason.comparison))[:-1]
    actual = b"null" if reason.actual is MISSING else orjson.dumps(reason.actual)
    note = b',"note":' + orjson.dumps(reason.note) if reason.note else b""
    return prefix + b',"actual":' + actual + _PASSED[reason.passed] + note + b"}"


class _Writer:
    """Writes the decisions of one answer, each reason serialised once however many share it."""

    def __init__(self, catalogue: Catalogue, language: Language, government: str) -> None:
        self.catalogue = catalogue
        self.language = language
        self.government = b',"county_government":' + orjson.dumps(government)
        self.reasons: dict[int, bytes] = {}

    def reasons_of(self, reasons: tuple[Reason, ...]) -> bytes:
        done = self.reasons
        parts = []
        for reason in reasons:
            text = done.get(reason.comparison.index)
            if text is None:
                text = done[reason.comparison.index] = _reason_bytes(self.catalogue, reason)
            parts.append(text)
        return b"[" + b",".join(parts) + b"]"

    def decision(self, decision: Decision) -> orjson.Fragment:
        """A MeasureResult, with `unmet` for a near miss and `missing_fields` if undetermined."""
        out = [_head_bytes(self.catalogue, decision.measure, self.language), self.government,
               b',"reasons":', self.reasons_of(decision.reasons)]
        if decision.status == "near_miss":
            out += [b',"unmet":', self.reasons_of(decision.unmet)]
        elif decision.status == "undetermined":
            out += [b',"missing_fields":', orjson.dumps(decision.missing_fields)]
        out.append(b"}")
        return orjson.Fragment(b"".join(out))


def match_json(
    catalogue: Catalogue, result: MatchResult, county: str, language: Language
) -> dict[str, Any]:
    """The answer of POST /v1/match, ready for orjson (decisions are pre-serialised fragments)."""
    government = catalogue.vocabularies.county(county).government.get(language)
    writer = _Writer(catalogue, language, government)
    return {
        "catalogue_version": result.catalogue_version,
        "as_of": result.as_of,
        "county_government": government,
        "matched": [writer.decision(d) for d in result.matched],
        "near_misses": [writer.decision(d) for d in result.near_misses],
        "undetermined": [writer.decision(d) for d in result.undetermined],
    }
