"""`policy-match import FILE`: load enterprise profiles from CSV or JSON Lines into the registry.

Each row is validated as a profile on its own and stored as PUT /v1/enterprises/{uscc} would
store it (a new version if changed, matches recomputed). A bad row is reported by its line
number and skipped; the good rows are kept. Rows are committed in batches, so an interrupted
import keeps what it had stored. A batch the database refuses (a row it cannot hold) is stored
again row by row, so that only the row it refuses is reported, by its line; the reason given is
the database's first line, never the row's values.

CSV: a header row of profile field names; an empty cell means "not given", `null` gives null
to a field that allows it (cluster, sub_industry, tier_valid_until); yes/no cells may be
true/false, 1/0, yes/no or 是/否; `bank_consents` lists bank ids separated by `;`.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO

import orjson
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from tqdm import tqdm

from service.core.database import write_transaction
from service.core.errors import field_errors
from service.core.i18n import message
from service.policy.catalogue import Catalogue
from service.policy.profile import NULLABLE_FIELDS, Profile, field_specs
from service.policy.vocabulary import vocabularies
from service.registry.store_batch import store_profiles

BATCH_ROWS = 500
_TRUE = frozenset({"true", "1", "yes", "y", "是"})
_FALSE = frozenset({"false", "0", "no", "n", "否"})
_INTEGER = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that was not stored, by its line number in the file, with what was wrong."""

    line: int
    problems: tuple[str, ...]


@dataclass
class ImportReport:
    """What an import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: list[BadRow] = field(default_factory=list)

    @property
    def stored(self) -> int:
        """Rows stored (created, updated or unchanged)."""
        return self.created + self.updated + self.unchanged


def _csv_cell(name: str, cell: str, kinds: dict[str, type]) -> Any:
    text = cell.strip()
    if name == "bank_consents":
        return [b.strip() for b in text.split(";") if b.strip()]
    if text.lower() == "null" and name in NULLABLE_FIELDS:
        return None
    kind = kinds.get(name, str)
    if kind is bool and text.lower() in _TRUE | _FALSE:
        return text.lower() in _TRUE
    if kind is int and _INTEGER.fullmatch(text):
        return int(text)
    return text  # as written: validation names the field if it is not what the field takes


def _csv_rows(stream: TextIO) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    kinds: dict[str, type] = {n: s.type for n, s in field_specs(vocabularies()).items()}
    reader = csv.DictReader(stream)
    unknown = [n for n in reader.fieldnames or () if n not in Profile.model_fields]
    if unknown:
        yield 1, BadRow(1, (f"header: unknown column(s) {', '.join(unknown)}",))
        return
    for row in reader:
        line = reader.line_num
        if None in row:  # more cells than the header names
            yield line, BadRow(line, ("more cells than the header has columns",))
            continue
        yield line, {k: _csv_cell(k, v, kinds) for k, v in row.items() if v and v.strip()}


def _jsonl_rows(stream: TextIO) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    for line, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as e:
            yield line, BadRow(line, (f"not valid JSON: {e}",))
            continue
        if not isinstance(value, dict):
            yield line, BadRow(line, ("not a JSON object",))
            continue
        yield line, value


def read_rows(path: Path, text: TextIO) -> Iterator[tuple[int, dict[str, Any] | BadRow]]:
    """(line number, raw profile or BadRow) for each row; the format from the file's suffix."""
    if path.suffix.lower() == ".csv":
        return _csv_rows(text)
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return _jsonl_rows(text)
    raise ValueError(message("{file}: import reads .csv or .jsonl (JSON Lines) files", file=path))


def validate_row(line: int, raw: dict[str, Any]) -> Profile | BadRow:
    """The row as a profile with its credit code, or what is wrong with it."""
    try:
        profile = Profile.model_validate(raw)
    except ValidationError as e:
        return BadRow(
            line, tuple(f"{x['field']}: {x['message']}" for x in field_errors(e.errors()))
        )
    if profile.uscc is None:
        return BadRow(line, ("$.uscc: a stored profile needs its uscc",))
    return profile


def import_file(
    path: Path,
    engine: Engine,
    catalogue: Catalogue,
    *,
    changed_by: str,
    day: date,
    synthetic: bool = False,
    progress: bool = True,
) -> ImportReport:
    """Store every good row of a CSV or JSON Lines file; report the bad ones by line."""
    report = ImportReport()
    size = path.stat().st_size
    with (
        path.open(encoding="utf-8-sig", newline="") as text,
        tqdm(total=size, unit="B", unit_scale=True, desc=path.name, disable=not progress) as bar,
    ):
        batch: list[tuple[int, Profile]] = []
        for line, raw in read_rows(path, text):
            row = raw if isinstance(raw, BadRow) else validate_row(line, raw)
            if isinstance(row, BadRow):
                report.bad.append(row)
            else:
                batch.append((line, row))
            if len(batch) >= BATCH_ROWS:
                _store(batch, engine, catalogue, changed_by, day, synthetic, report)
                batch = []
                bar.update(_position(text) - bar.n)
        _store(batch, engine, catalogue, changed_by, day, synthetic, report)
        bar.update(size - bar.n)
    return report


def _position(text: TextIO) -> int:
    try:
        return text.buffer.tell()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return 0


def database_said(error: DBAPIError) -> str:
    """What the database said, its first line only (PostgreSQL's DETAIL lines quote values)."""
    said = str(error.orig).strip().splitlines()
    return f"{type(error.orig).__name__}: {said[0] if said else 'no message'}"


def _store(
    batch: list[tuple[int, Profile]],
    engine: Engine,
    catalogue: Catalogue,
    changed_by: str,
    day: date,
    synthetic: bool,
    report: ImportReport,
) -> None:
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
            report.bad.append(BadRow(line, (f"the database refused the row ({database_said(e)})",)))


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
