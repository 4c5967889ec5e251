"""Catalogue and match results as the JSON the API answers, in the caller's language."""

from datetime import date
from typing import Any

from service.catalogue import Catalogue, CompiledComparison, Measure
from service.i18n import Language
from service.matching import MISSING, Decision, MatchResult, Reason
from service.policy_files import Department

_cache: dict[tuple[str, str, Language], dict[str, Any]] = {}
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
        t = test.test
        value = list(t.value) if isinstance(t.value, tuple) else t.value
        static = {"field": t.field, "operator": t.operator.value, "expected": value}
        if t.note:
            static["note"] = t.note
        _expected[key] = static
    return static


def reason_json(catalogue: Catalogue, reason: Reason) -> dict[str, Any]:
    """One checked condition: field, operator, expected, actual, passed (and a note)."""
    out = {
        **_static(catalogue, reason.test),
        "actual": None if reason.actual is MISSING else reason.actual,
        "passed": reason.passed,
    }
    if reason.note:
        out["note"] = reason.note
    return out


def decision_json(
    catalogue: Catalogue, decision: Decision, language: Language, county_government: str
) -> dict[str, Any]:
    """A MeasureResult, with `unmet` for a near miss and `missing_fields` when undetermined."""
    out = {
        **measure_head(catalogue, decision.measure, language),
        "county_government": county_government,
        "reasons": [reason_json(catalogue, r) for r in decision.reasons],
    }
    if decision.status == "near_miss":
        out["unmet"] = [reason_json(catalogue, r) for r in decision.unmet]
    elif decision.status == "undetermined":
        out["missing_fields"] = list(decision.missing_fields)
    return out


def match_json(
    catalogue: Catalogue, result: MatchResult, county: str, language: Language
) -> dict[str, Any]:
    """The answer of POST /v1/match."""
    government = catalogue.vocabularies.county(county).government.get(language)
    return {
        "catalogue_version": result.catalogue_version,
        "as_of": result.as_of,
        "county_government": government,
        "matched": [decision_json(catalogue, d, language, government) for d in result.matched],
        "near_misses": [
            decision_json(catalogue, d, language, government) for d in result.near_misses
        ],
        "undetermined": [
            decision_json(catalogue, d, language, government) for d in result.undetermined
        ],
    }


def iso(day: date) -> str:
    """A date as YYYY-MM-DD."""
    return day.isoformat()
