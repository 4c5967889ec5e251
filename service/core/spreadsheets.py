"""Exports written as spreadsheets: CSV (UTF-8 with a BOM) or .xlsx, row by row, in constant memory.

Every export (the bank's eligible firms, the registry's matches, the disclosure log) is a header
row and an iterable of rows, which this module writes; nothing here knows what the rows mean.

- CSV is produced as the rows come, in chunks of about CHUNK_BYTES, with a byte-order mark so that
  Excel on Chinese Windows reads it as UTF-8 (without one it guesses GB18030 and garbles it).
- .xlsx is written with XlsxWriter in `constant_memory` mode: each row goes to a temporary file
  as soon as the next begins, and strings are written inline rather than into the shared-string
  table that openpyxl's write-only mode keeps in memory (one entry per distinct name), so memory
  stays flat however many firms there are. The finished workbook is a temporary file, read out
  in chunks.
- Formula injection: a CSV cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return
  is prefixed with `'`, so a spreadsheet shows it as text. An .xlsx cell is always written as a
  string (or a number), never a formula, so its text is kept exactly.
"""

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from enum import StrEnum
from typing import IO

import xlsxwriter

Cell = str | int | None
CHUNK_BYTES = 64 * 1024
BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_STARTS)
XLSX_MAX_ROWS = 1_048_576  # Excel's limit per sheet, header included; then a new sheet


class SheetFormat(StrEnum):
    """The spreadsheet formats an export is written in (the `format` parameter's values)."""

    CSV = "csv"
    XLSX = "xlsx"

    @property
    def media_type(self) -> str:
        """The format's media type."""
        return MEDIA_TYPES[self]


MEDIA_TYPES = {
    SheetFormat.CSV: "text/csv",
    SheetFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def neutralised(value: Cell) -> Cell:
    """A cell's value safe to open: text that a spreadsheet would read as a formula gets `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(columns: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Iterator[bytes]:
    """The rows as UTF-8 CSV with a BOM and a header row, in chunks of about CHUNK_BYTES
    characters (the header comes with the first rows)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow([neutralised(c) for c in columns])
    for row in rows:
        # neutralised() written inline: it runs for every cell of 100,000 rows
        writer.writerow(["'" + c if type(c) is str and c[:1] in _FORMULA_FIRST else c for c in row])
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def write_xlsx(
    columns: Sequence[str], rows: Iterable[Sequence[Cell]], *, sheet_name: str
) -> IO[bytes]:
    """The rows as a workbook in a temporary file, rewound (the caller reads and closes it).

    Cells are strings or numbers, never formulas; past Excel's row limit a further sheet begins.
    """
    output = tempfile.TemporaryFile()  # noqa: SIM115 (the caller reads and closes it)
    workbook = xlsxwriter.Workbook(
        output,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    header = workbook.add_format({"bold": True})
    sheets = 0
    sheet = None
    at = XLSX_MAX_ROWS
    for row in rows:
        if at == XLSX_MAX_ROWS:
            sheets += 1
            sheet = workbook.add_worksheet(sheet_name if sheets == 1 else f"{sheet_name} {sheets}")
            sheet.write_row(0, 0, list(columns), header)
            sheet.freeze_panes(1, 0)
            at = 1
        _write_row(sheet, at, row)
        at += 1
    if sheet is None:
        workbook.add_worksheet(sheet_name).write_row(0, 0, list(columns), header)
    workbook.close()
    output.seek(0)
    return output


def _write_row(sheet: xlsxwriter.worksheet.Worksheet, at: int, row: Sequence[Cell]) -> None:
    for column, value in enumerate(row):
        if isinstance(value, int):
            sheet.write_number(at, column, value)
        elif value is not None:
            sheet.write_string(at, column, value)


def file_chunks(file: IO[bytes]) -> Iterator[bytes]:
    """A file's bytes in chunks of CHUNK_BYTES; the file is closed at the end."""
    with file:
        while chunk := file.read(CHUNK_BYTES):
            yield chunk
