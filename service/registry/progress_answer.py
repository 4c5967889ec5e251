"""The answer of GET /v1/plan/progress: each target with its counts, in the caller's language."""

from datetime import date
from typing import Any

from service.core.i18n import Language
from service.policy.catalogue import Catalogue
from service.policy.targets import Target
from service.registry.progress import Progress, Tally

NOTICE: dict[Language, str] = {
    "zh-Hans": (
        "以下数字统计的是本系统登记库中企业自行报送或平台同步的档案，不是主管部门公布的官方认定名单；"
        "认定情况以工业和信息化部门公布的名单为准。"
    ),
    "zh-Hant": (
        "以下數字統計的是本系統登記庫中企業自行報送或平台同步的檔案，不是主管部門公佈的官方認定名單；"
        "認定情況以工業和信息化部門公佈的名單為準。"
    ),
    "en": (
        "These figures count the profiles stored in this service's registry, as firms or the "
        "platform reported them. The registry is not the official recognition list: the lists "
        "published by the industry and information technology authorities decide."
    ),
}
SYNTHETIC_NOTE: dict[Language, str] = {
    "zh-Hans": "本次统计包含合成演示数据（非真实企业）。",
    "zh-Hant": "本次統計包含合成演示數據（非真實企業）。",
    "en": "Synthetic demo firms (not real firms) are included.",
}


def tally_json(tally: Tally) -> dict[str, Any]:
    """A tally as the answer gives it: firms, count, unknown and the share in percent."""
    share = round(100 * tally.count / tally.firms, 2) if tally.firms else None
    return {
        "firms": tally.firms,
        "count": tally.count,
        "unknown": tally.unknown,
        "share_percent": share,
    }


def target_json(
    catalogue: Catalogue,
    target: Target,
    progress: Progress,
    counties: tuple[str, ...],
    language: Language,
) -> dict[str, Any]:
    """One target: the plan's words and numbers, and the stored firms counted against it."""
    body: dict[str, Any] = {
        "id": target.id,
        "title": target.title.get(language),
        "clause": target.clause,
        "quote": target.quote,
        "sentence": target.sentence.get(language),
        "also": [{"clause": a.clause, "quote": a.quote} for a in target.also],
        "goal": target.goal,
        "unit": target.unit.get(language),
        "baseline": target.baseline,
        "baseline_on": target.baseline_on,
        "target": target.target,
        "target_max": target.target_max,
        "or_more": target.or_more,
        "per_year": target.per_year,
        "year": target.year,
        "note": target.note.get(language) if target.note else None,
        "counted": target.counted is not None,
    }
    if target.counted is None:
        assert target.not_counted is not None
        body.update(what=None, not_counted=target.not_counted.get(language), total=None)
        body["by_county"] = []
        return body
    empty = progress.empty(target.id)
    by_county = progress.tallies[target.id]
    body.update(
        what=target.counted.what.get(language),
        not_counted=None,
        total=tally_json(progress.total(target.id)),
        by_county=[
            {
                "county": code,
                "county_name": catalogue.vocabularies.county(code).name(language),
                **tally_json(tally),
            }
            for code, tally in ((c, by_county.get(c, empty)) for c in counties)
        ],
    )
    return body


def progress_json(
    catalogue: Catalogue,
    progress: Progress,
    *,
    as_of: date,
    county: str | None,
    include_synthetic: bool,
    language: Language,
) -> dict[str, Any]:
    """The whole answer: what was counted, the notice, and every target (counted or not)."""
    counties = (county,) if county else catalogue.vocabularies.codes("counties")
    notice = NOTICE[language]
    if include_synthetic:
        notice += (" " if language == "en" else "") + SYNTHETIC_NOTE[language]
    return {
        "as_of": as_of,
        "county": county,
        "include_synthetic": include_synthetic,
        "catalogue_version": catalogue.version,
        "document": catalogue.document.id,
        "document_title": catalogue.document.title.get(language),
        "notice": notice,
        "items": [
            target_json(catalogue, t, progress, counties, language) for t in catalogue.targets
        ],
        "next_cursor": None,
    }
