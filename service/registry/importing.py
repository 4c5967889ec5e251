"""`policy-match import FILE`: load enterprise profiles from .xlsx, CSV or JSON Lines into the
registry.

The file is read by service/registry/sheet_reading.py: checked whole first (a file refused
raises a SheetRefused and nothing is stored from it), then row by row, each row validated as a
profile on its own and stored as PUT /v1/enterprises/{uscc} would store it (a new version if
changed, matches recomputed). A bad row is reported by its row (line) number with its cells as
read, each problem naming the field by its label and name, and skipped; the good rows are kept
(service/registry/import_result.py writes the bad ones back as a workbook). Rows are committed
in batches, so an interrupted import keeps what it had stored. A batch the database refuses (a
row it cannot hold) is stored again row by row, so that only the row it refuses is reported, by
its line; the reason given is the database's first line, never the row's values.

Cells: an empty cell means "not given", `null` gives null to a field that allows it (cluster,
sub_industry, tier_valid_until); codes or their names, yes/no as 是/否, days as Excel dates or
text (service/registry/sheet_cells.py); `bank_consents` lists bank ids separated by `;`.
"""

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from tqdm import tqdm

from service.core.database import write_transaction
from service.core.errors import field_errors
from service.core.i18n import Text, message
from service.policy.catalogue import Catalogue
from service.policy.profile import Profile
from service.registry.import_rows import BadRow, ImportReport, SheetRow
from service.registry.sheet_reading import field_problem, open_sheet
from service.registry.store_batch import store_profiles
from service.registry.workbook_guard import SheetLimits

__all__ = ["BadRow", "ImportReport", "SheetRow", "import_file", "validate_row"]

BATCH_ROWS = 500
_FIELD = re.compile(r"\$\.([a-z_]+)")


def validate_row(line: int, raw: dict[str, Any], cells: tuple[str, ...] = ()) -> Profile | BadRow:
    """The row as a profile with its credit code, or what is wrong with it (fields named)."""
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as e:
        return BadRow(line, tuple(_problem(x) for x in field_errors(e.errors())), cells)
    if profile.uscc is None:
        return BadRow(
            line, (field_problem("uscc", message("a stored profile needs its uscc")),), cells
        )
    return profile


def _problem(error: dict[str, Any]) -> Text:
    named = _FIELD.match(error["field"])
    if named is None:
        return message("{field}: {message}", field=error["field"], message=error["message"])
    return field_problem(named.group(1), error["message"])


def import_file(
    path: Path,
    engine: Engine,
    catalogue: Catalogue,
    *,
    changed_by: str,
    day: date,
    synthetic: bool = False,
    progress: bool = True,
    on_progress: Callable[[int, ImportReport], None] | None = None,
    limits: SheetLimits | None = None,
) -> ImportReport:
    """Store every good row of an .xlsx, CSV or JSON Lines file; report the bad ones by row.

    Raises a SheetRefused (nothing stored) for a file refused whole; `on_progress` is told the
    rows read so far and the report as it stands after each batch, and at the end.
    """
    report = ImportReport()
    read = 0
    with (
        open_sheet(path, limits) as sheet,
        tqdm(unit=" rows", desc=path.name, disable=not progress) as bar,
    ):
        report.header = sheet.header
        batch: list[tuple[int, Profile]] = []
        cells: dict[int, tuple[str, ...]] = {}
        for line, raw, row_cells in sheet.rows:
            read += 1
            row = raw if isinstance(raw, BadRow) else validate_row(line, raw, row_cells)
            if isinstance(row, BadRow):
                report.bad.append(row)
            else:
                batch.append((line, row))
                cells[line] = row_cells
            if len(batch) >= BATCH_ROWS:
                _store(batch, cells, engine, catalogue, changed_by, day, synthetic, report)
                batch, cells = [], {}
                bar.update(read - bar.n)
                if on_progress is not None:
                    on_progress(read, report)
        _store(batch, cells, engine, catalogue, changed_by, day, synthetic, report)
        bar.update(read - bar.n)
    if on_progress is not None:
        on_progress(read, report)
    return report


def database_said(error: DBAPIError) -> str:
    """What the database said, its first line only (PostgreSQL's DETAIL lines quote values)."""
    said = str(error.orig).strip().splitlines()
    return f"{type(error.orig).__name__}: {said[0] if said else 'no message'}"


def _store(
    batch: list[tuple[int, Profile]],
    cells: dict[int, tuple[str, ...]],
    engine: Engine,
    catalogue: Catalogue,
    changed_by: str,
    day: date,
    synthetic: bool,
    report: ImportReport,
) -> None:
    """Store a batch; if the database refuses it, row by row, each row it refuses reported
    with its cells as read."""
    if not batch:
        return
    try:
        _count(report, _store_rows(batch, engine, catalogue, changed_by, day, synthetic))
        return
    except OperationalError:
        raise  # unreachable, busy or timed out: no row is at fault
    except DBAPIError:
        if len(batch) == 1:
            raise
    for line, profile in batch:  # only the row the database refuses is left out
        one = [(line, profile)]
        try:
            _count(report, _store_rows(one, engine, catalogue, changed_by, day, synthetic))
        except OperationalError:
            raise
        except DBAPIError as e:
            said = message("the database refused the row ({said})", said=database_said(e))
            report.bad.append(BadRow(line, (said,), cells.get(line, ())))


def _count(report: ImportReport, counts: tuple[int, int, int]) -> None:
    report.created += counts[0]
    report.updated += counts[1]
    report.unchanged += counts[2]


def _store_rows(
    batch: list[tuple[int, Profile]],
    engine: Engine,
    catalogue: Catalogue,
    changed_by: str,
    day: date,
    synthetic: bool,
) -> tuple[int, int, int]:
    """Store the rows in one transaction: (created, updated, unchanged)."""
    with write_transaction(engine) as connection:
        counts = store_profiles(
            connection,
            catalogue,
            [profile for _, profile in batch],
            changed_by=changed_by,
            day=day,
            synthetic=synthetic,
        )
    return counts.created, counts.updated, counts.unchanged
