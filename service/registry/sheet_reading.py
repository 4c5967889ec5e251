"""An import file's rows as raw profiles: .xlsx, CSV (UTF-8, UTF-8 with BOM, GB18030) or JSON
Lines, chosen by the file's suffix.

`open_sheet(path)` checks the file whole before a row is read (service/registry/workbook_guard.py,
csv_reading.py) and reads its header (service/registry/sheet_columns.py): a file refused
raises a SheetRefused (service/core/errors.py), naming the cause, and nothing is stored from it.
Each row then comes as a SheetRow: its number, the raw profile (or a BadRow naming each field
that is wrong) and its cells as the file had them. Empty rows are skipped; a workbook is read
down to its last row with a value (found by the guard), however many empty rows lie between.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from service.core.errors import BadHeader, UnsupportedSheet
from service.core.i18n import Message, Text, message
from service.registry.csv_reading import csv_rows, json_encoding
from service.registry.import_rows import BadRow, SheetRow
from service.registry.sheet_cells import cell_text, is_empty, profile_value
from service.registry.sheet_columns import column_label, header_field, header_key, result_columns
from service.registry.workbook_guard import SheetLimits
from service.registry.workbook_reading import BEYOND, UNCALCULATED, Marker, workbook_rows

SUFFIXES = (".xlsx", ".csv", ".jsonl", ".ndjson")


@dataclass(frozen=True, slots=True)
class Header:
    """The header row as written, and the field each column fills (None: a column read past)."""

    written: tuple[str, ...]
    fields: tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class Sheet:
    """An import file opened: its header as written, and its rows."""

    header: tuple[str, ...]
    rows: Iterator[SheetRow]


@contextmanager
def open_sheet(path: Path, limits: SheetLimits | None = None) -> Iterator[Sheet]:
    """The file's header and rows, once it has passed its checks; refused otherwise."""
    limits = limits or SheetLimits.configured()
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        with workbook_rows(path, limits) as (_, rows):
            yield _table(rows)
    elif suffix == ".csv":
        with csv_rows(path, limits) as records:
            yield _table(records)
    elif suffix in (".jsonl", ".ndjson"):
        json_encoding(path, limits)
        with path.open(encoding="utf-8-sig") as text:
            yield Sheet(("JSON",), _json_lines(text))
    elif suffix == ".xls":
        raise UnsupportedSheet(
            message(
                "{file}: an Excel 97-2003 workbook is not read; save it as .xlsx", file=path.name
            )
        )
    else:
        raise UnsupportedSheet(
            message("{file}: import reads .xlsx, .csv or .jsonl (JSON Lines) files", file=path.name)
        )


def _table(rows: Iterator[tuple[int, Sequence[Any]]]) -> Sheet:
    for _, values in rows:
        if not all(is_empty(v) for v in values):
            header = read_header(values)
            return Sheet(header.written, _profiles(header, rows))
    return Sheet((), iter(()))


def read_header(values: Sequence[Any]) -> Header:
    """The header row's columns; refused when a column names no field, or one named twice."""
    written = tuple(cell_text(v).strip() for v in values)
    while written and not written[-1]:
        written = written[:-1]
    fields: list[str | None] = []
    errors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for column, text in enumerate(written, start=1):
        field = header_field(text) if text else None
        if text and field is None and header_key(text) not in result_columns():
            unknown = message("names no profile field")
            errors.append(_header_error(column, text, unknown, "unknown_column"))
        if field is not None and field in seen:
            same = message(
                "names the same field ({field}) as column {other}", field=field, other=seen[field]
            )
            errors.append(_header_error(column, text, same, "duplicated_column"))
        if field is not None:
            seen.setdefault(field, column)
        fields.append(field)
    if errors:
        detail = message(
            "the header row has unknown or duplicated columns: {columns}",
            columns=", ".join(repr(e["field"]) for e in errors),
        )
        raise BadHeader(detail, errors=errors)
    if not seen:
        raise BadHeader(message("the first row names no profile field: it must be the header"))
    return Header(written, tuple(fields))


def _header_error(column: int, text: str, what: Message, kind: str) -> dict[str, Any]:
    """A problem+json `errors` item: the header as written, in the file, its column (from 1)."""
    return {
        "field": text,
        "in": "file",
        "column": column,
        "message": message(
            "column {column} {header!r} {what}", column=column, header=text, what=what
        ),
        "type": kind,
    }


def _profiles(header: Header, rows: Iterator[tuple[int, Sequence[Any]]]) -> Iterator[SheetRow]:
    for number, values in rows:
        if not all(is_empty(v) for v in values):
            yield profile_row(header, number, values)


def profile_row(header: Header, number: int, values: Sequence[Any]) -> SheetRow:
    """One row as a raw profile, or a BadRow naming each cell that cannot be read."""
    cells = tuple(cell_text(v) for v in values)
    raw: dict[str, Any] = {}
    problems: list[Text] = []
    for column, value in enumerate(values):
        if value is BEYOND or (column >= len(header.fields) and not is_empty(value)):
            problems.append(message("more cells than the header has columns"))
            break
        if is_empty(value) and not isinstance(value, Marker):
            continue
        field = header.fields[column] if column < len(header.fields) else None
        if field is None:
            if column < len(header.written) and header.written[column]:
                continue  # the result workbook's row number and error columns
            problems.append(message("column {column} has a value but no header", column=column + 1))
        elif isinstance(value, Marker):
            problems.append(_cell_problem(field, value))
        else:
            raw[field] = profile_value(field, value)
    if problems:
        return SheetRow(number, BadRow(number, tuple(problems), cells), cells)
    return SheetRow(number, raw, cells)


def _cell_problem(field: str, value: Marker) -> Message:
    what = (
        message("a formula without a saved value (open the file in Excel and save it)")
        if value is UNCALCULATED
        else message("the cell holds the error {error}", error=str(value))
    )
    return field_problem(field, what)


def field_problem(field: str, what: Text) -> Message:
    """A problem naming the field by its label and its name: 企业名称（name）：…"""
    return message(
        "{label} ({field}): {problem}",
        label=column_label(field) or field,
        field=field,
        problem=what,
    )


def _json_lines(text: Any) -> Iterator[SheetRow]:
    for line, written in enumerate(text, start=1):
        if not written.strip():
            continue
        cells = (written.rstrip("\r\n"),)
        try:
            value = orjson.loads(written)
        except orjson.JSONDecodeError as e:
            yield SheetRow(
                line,
                BadRow(line, (message("not valid JSON: {error}", error=str(e)),), cells),
                cells,
            )
            continue
        if not isinstance(value, dict):
            yield SheetRow(line, BadRow(line, (message("not a JSON object"),), cells), cells)
            continue
        yield SheetRow(line, value, cells)
