"""An impact preview as JSON, in the caller's language (POST /v1/catalogue/preview, the console,
`policy-match publish --dry-run`): measures with their titles, firms by county with their
names, firms listed with credit codes and names masked as the decision log masks them."""

from typing import Any

from service.core.i18n import Language
from service.core.logs import mask_credit_code, mask_name
from service.policy.catalogue import Catalogue
from service.registry.preview import FirmSample, MeasureImpact, Preview


def _county_name(catalogue: Catalogue, code: str, language: Language) -> str:
    try:
        return catalogue.vocabularies.county(code).name(language)
    except StopIteration:  # a county dropped from the vocabularies: its code stands
        return code


def _firm(firm: FirmSample) -> dict[str, Any]:
    return {
        "uscc": mask_credit_code(firm.uscc),
        "county": firm.county,
        "name": None if firm.name is None else mask_name(firm.name),
    }


def _side(
    counts: dict[str, int], firms: list[FirmSample], catalogue: Catalogue, language: Language
) -> dict[str, Any]:
    return {
        "firms": sum(counts.values()),
        "by_county": [
            {"county": c, "county_name": _county_name(catalogue, c, language), "firms": n}
            for c, n in sorted(counts.items(), key=lambda cn: (-cn[1], cn[0]))
        ],
        "first": [_firm(f) for f in firms],
    }


def _title(current: Catalogue, candidate: Catalogue, measure_id: str, language: Language) -> str:
    measure = candidate.by_id.get(measure_id) or current.by_id[measure_id]
    return measure.spec.title.get(language)


def measure_json(
    impact: MeasureImpact, current: Catalogue, candidate: Catalogue, language: Language
) -> dict[str, Any]:
    """One changed measure's impact as answered."""
    return {
        "measure_id": impact.measure_id,
        "title": _title(current, candidate, impact.measure_id, language),
        "change": impact.change,
        "gained": _side(impact.gained, impact.gained_firms, candidate, language),
        "lost": _side(impact.lost, impact.lost_firms, candidate, language),
        "moved": [{"from": was, "to": now, "firms": n} for (was, now), n in impact.moved.items()],
    }


def preview_json(
    preview: Preview, current: Catalogue, candidate: Catalogue, language: Language
) -> dict[str, Any]:
    """The whole preview as answered."""
    return {
        "catalogue_version": preview.candidate_version,
        "in_force_version": preview.current_version,
        "changed": not preview.unchanged,
        "day": preview.day.isoformat(),
        "firms": preview.firms,
        "stale_firms": preview.stale,
        "measures": [measure_json(m, current, candidate, language) for m in preview.measures],
        "events": {
            "measure.matched": preview.events["measure.matched"],
            "measure.unmatched": preview.events["measure.unmatched"],
            "by_county": [
                {"county": c, "county_name": _county_name(candidate, c, language), "events": n}
                for c, n in sorted(preview.events_by_county.items(), key=lambda cn: (-cn[1], cn[0]))
            ],
            "deliveries": preview.deliveries,
            "subscriptions": preview.subscriptions,
        },
    }
