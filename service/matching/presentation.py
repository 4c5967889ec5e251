"""Catalogue and match results as the JSON the API answers, in the caller's language."""

from typing import Any

from service.core.i18n import Language
from service.policy.catalogue import Catalogue, CompiledComparison, Measure
from service.policy.evaluator import TierNote
from service.policy.files import Department, Instrument, MeasureFile
from service.policy.gate_sources import instrument_of, period_instrument
from service.policy.indicators import indicators_for
from service.policy.plan_text import simplified

_cache: dict[tuple[str, str, Language], dict[str, Any]] = {}
_expected: dict[tuple[str, int, Language], dict[str, Any]] = {}


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
            "county_discretion": spec.county_discretion,
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
            "quote_zh_hans": [simplified(quote) for quote in spec.source.quote],
        },
        "serves": spec.serves.get(language),
        "county_discretion_note": (
            catalogue.county_discretion.listing.get(language) if spec.county_discretion else None
        ),
        "eligibility": spec.eligibility.model_dump(mode="json", by_alias=True),
        "conditions": [
            {
                **condition_json(catalogue, c, language),
                "source": gate_source_json(spec, c, language),
            }
            for c in measure.comparison_objects
        ],
        "period_source": _instrument_json(period_instrument(spec), language),
        "indicators": [
            {"id": i.id, "title": i.title.get(language), "target": i.target_text.get(language)}
            for i in indicators_for(catalogue.indicators, measure.measure_id)
        ],
        "catalogue_version": catalogue.version,
    }


def county_discretion_note(catalogue: Catalogue, county: str, language: Language) -> str:
    """What a result of a measure left to the counties says: the firm's county decides."""
    government = catalogue.vocabularies.county(county).government.get(language)
    return catalogue.county_discretion.answer.get(language).format(government=government)


def gate_source_json(
    spec: MeasureFile, test: CompiledComparison, language: Language
) -> dict[str, Any]:
    """Who sets a gate: the plan (with the words that do, where named) or an instrument."""
    instrument = instrument_of(spec, test.comparison)
    if instrument is not None:
        return {"kind": "instrument", **(_instrument_json(instrument, language) or {})}
    source = test.comparison.source
    return {"kind": "plan", "words": source.plan if source else None}


def _instrument_json(instrument: Instrument | None, language: Language) -> dict[str, Any] | None:
    if instrument is None:
        return None
    return {
        "id": instrument.id,
        "title": instrument.title.get(language),
        "number": instrument.number,
        "issued_by": instrument.issued_by.get(language),
        "issued_on": instrument.issued_on,
    }


def condition_json(
    catalogue: Catalogue, test: CompiledComparison, language: Language
) -> dict[str, Any]:
    """A condition as written: field, operator, expected value, and the plan's reason for it."""
    key = (catalogue.version, test.index, language)
    static = _expected.get(key)
    if static is None:
        t = test.comparison
        value = list(t.value) if isinstance(t.value, tuple) else t.value
        static = {"field": t.field, "operator": t.operator.value, "expected": value}
        if t.note:
            static["note"] = t.note.get(language)
        _expected[key] = static
    return static


_TIER_NOTES = {
    "zh-Hans": (
        "{tier}认定已于{day}到期，不再计入",
        "未提供{tier}认定的有效期（tier_valid_until）",
    ),
    "zh-Hant": (
        "{tier}認定已於{day}到期，不再計入",
        "未提供{tier}認定的有效期（tier_valid_until）",
    ),
    "en": (
        "{tier} recognition expired on {day} and no longer counts",
        "the validity of the {tier} recognition (tier_valid_until) is not given",
    ),
}


def tier_note_text(catalogue: Catalogue, note: TierNote, language: Language) -> str:
    """How the tier was read, in words: expired, or its validity not given."""
    tier = next(t for t in catalogue.vocabularies.tiers if t.code == note.tier).name(language)
    expired, undated = _TIER_NOTES[language]
    if note.expired_on is None:
        return undated.format(tier=tier)
    return expired.format(tier=tier, day=note.expired_on.isoformat())
