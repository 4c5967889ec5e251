"""The figures of the progress page, laid out once for its tables, its charts and its CSV file.

Nothing is counted here: the current figures are GET /v1/plan/progress's own answer
(registry/progress_answer.py), the quarters are registry/progress_history.py's; this module only
arranges them, so the page, its charts and the CSV show the same numbers as the API.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.registry.progress_answer import tally_json
from service.registry.progress_history import PeriodProgress

Gettext = Callable[..., str]
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class QuarterFigure:
    """One counted target's tally at the end of one quarter."""

    quarter: str
    day: str
    target_id: str
    title: str
    firms: int | None
    count: int
    unknown: int
    share_percent: float | None


@dataclass(frozen=True, slots=True)
class Figures:
    """The API's answer (the current figures) and the quarters' figures beside it."""

    answer: dict[str, Any]
    quarters: tuple[str, ...]
    history: tuple[QuarterFigure, ...]
    by_target: dict[str, list[QuarterFigure]]  # the history, each target's quarters in order

    def counted(self) -> list[dict[str, Any]]:
        """The targets the registry counts, as the answer gives them."""
        return [item for item in self.answer["items"] if item["counted"]]

    def not_counted(self) -> list[dict[str, Any]]:
        """The targets the registry cannot count, with why."""
        return [item for item in self.answer["items"] if not item["counted"]]


def is_share(item: dict[str, Any]) -> bool:
    """A target that is a share of firms (its tally has the firms it is a share of)."""
    return bool(item["counted"]) and item["total"]["firms"] is not None


def figures_of(answer: dict[str, Any], history: list[PeriodProgress]) -> Figures:
    """The page's figures: the answer, and each counted target's total at each quarter's end."""
    titles = {item["id"]: item["title"] for item in answer["items"] if item["counted"]}
    rows = []
    for period in history:
        for target_id, title in titles.items():
            tally = tally_json(period.progress.total(target_id))
            rows.append(
                QuarterFigure(
                    period.quarter.label,
                    period.day.isoformat(),
                    target_id,
                    title,
                    tally["firms"],
                    tally["count"],
                    tally["unknown"],
                    tally["share_percent"],
                )
            )
    by_target: dict[str, list[QuarterFigure]] = {target_id: [] for target_id in titles}
    for row in rows:
        by_target[row.target_id].append(row)
    return Figures(answer, tuple(p.quarter.label for p in history), tuple(rows), by_target)


def shown(value: Any) -> str:
    """A figure as the page shows it: a dash for none, a whole float without its `.0`."""
    if value is None:
        return "—"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _bar(name: str, data: list[Any]) -> dict[str, Any]:
    return {"name": name, "data": data}


def chart_data(figures: Figures, _: Gettext) -> dict[str, Any]:
    """What progress.js draws: six charts (counts and shares; overall, by county, by quarter)."""
    counted = figures.counted()
    counts = [item for item in counted if not is_share(item)]
    shares = [item for item in counted if is_share(item)]
    counties = [c["county_name"] for c in counted[0]["by_county"]] if counted else []
    charts = [
        {
            "id": "overall-counts",
            "kind": "bar",
            "unit": _("firms"),
            "categories": [item["title"] for item in counts],
            "series": [
                _bar(_("Baseline (plan)"), [item["baseline"] for item in counts]),
                _bar(_("Stored firms (registry)"), [item["total"]["count"] for item in counts]),
                _bar(_("Target"), [item["target"] for item in counts]),
            ],
        },
        {
            "id": "overall-shares",
            "kind": "bar",
            "unit": "%",
            "categories": [item["title"] for item in shares],
            "series": [
                _bar(
                    _("Stored firms (registry)"),
                    [item["total"]["share_percent"] for item in shares],
                ),
                _bar(_("Target"), [item["target"] for item in shares]),
            ],
        },
        {
            "id": "county-counts",
            "kind": "bar",
            "unit": _("firms"),
            "categories": counties,
            "series": [
                _bar(item["title"], [c["count"] for c in item["by_county"]]) for item in counts
            ],
        },
        {
            "id": "county-shares",
            "kind": "bar",
            "unit": "%",
            "categories": counties,
            "series": [
                _bar(item["title"], [c["share_percent"] for c in item["by_county"]])
                for item in shares
            ],
        },
        {
            "id": "time-counts",
            "kind": "line",
            "unit": _("firms"),
            "categories": list(figures.quarters),
            "series": [
                _bar(item["title"], [row.count for row in figures.by_target[item["id"]]])
                for item in counts
            ],
        },
        {
            "id": "time-shares",
            "kind": "line",
            "unit": "%",
            "categories": list(figures.quarters),
            "series": [
                _bar(
                    item["title"],
                    [row.share_percent for row in figures.by_target[item["id"]]],
                )
                for item in shares
            ],
        },
    ]
    return {"charts": charts}


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not read as a formula (= + - @ and tab/CR neutralised)."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_rows(figures: Figures, _: Gettext) -> list[list[Any]]:
    """The CSV's rows: a header, then every figure of the page (overall, by county, quarters)."""
    rows: list[list[Any]] = [
        [
            _("Section"),
            _("Target id"),
            _("Target"),
            _("County code"),
            _("County"),
            _("Quarter"),
            _("Counted on"),
            _("Baseline (plan)"),
            _("Target"),
            _("Firms (of which a share)"),
            _("Stored firms (registry)"),
            _("Not known"),
            _("Share (%)"),
        ]
    ]
    as_of = str(figures.answer["as_of"])
    for item in figures.counted():
        total = item["total"]
        plan = [item["baseline"], item["target"]]
        tally = [total["firms"], total["count"], total["unknown"], total["share_percent"]]
        rows.append([_("Overall"), item["id"], item["title"], "", "", "", as_of, *plan, *tally])
        for c in item["by_county"]:
            figures_of_county = [c["firms"], c["count"], c["unknown"], c["share_percent"]]
            where = [c["county"], c["county_name"], ""]
            rows.append([_("By county"), item["id"], item["title"], *where, as_of, *plan])
            rows[-1] += figures_of_county
    for row in figures.history:
        tally = [row.firms, row.count, row.unknown, row.share_percent]
        where = ["", "", row.quarter, row.day, "", ""]
        rows.append([_("By quarter"), row.target_id, row.title, *where, *tally])
    return rows


def csv_bytes(rows: list[list[Any]]) -> bytes:
    """The rows as UTF-8 CSV with a byte order mark (so that Excel reads the Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return "\ufeff".encode() + out.getvalue().encode()
