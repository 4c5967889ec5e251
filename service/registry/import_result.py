"""The result workbook of an import: each bad row as the file had it, with what was wrong.

Columns: the row's number in the file, the file's own header as written, then the error column
(错误 / 錯誤 / Error), in the caller's language. Written with XlsxWriter in constant memory
(service/core/spreadsheets.py); text that a spreadsheet would read as a formula is neutralised.
"""

import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from service.core.i18n import Language, message
from service.core.spreadsheets import Cell, neutralised, write_xlsx
from service.registry.import_rows import BadRow, ImportReport
from service.registry.sheet_columns import ERROR_COLUMN, ROW_COLUMN

SHEET_NAME = message("Bad rows")
PROBLEM_SEPARATOR = {"zh-Hans": "；", "zh-Hant": "；", "en": "; "}


def bad_row_columns(header: Sequence[str], language: Language) -> list[str]:
    """The result workbook's header: row number, the file's header as written, error."""
    return [ROW_COLUMN.translate(language), *header, ERROR_COLUMN.translate(language)]


def _rows(report: ImportReport, width: int, language: Language) -> Iterator[list[Cell]]:
    for bad in report.bad:
        cells: list[Cell] = [neutralised(c) if c else None for c in bad.cells[:width]]
        cells += [None] * (width - len(cells))
        error = PROBLEM_SEPARATOR[language].join(bad.said(language))
        yield [bad.line, *cells, neutralised(error)]


def write_bad_rows(report: ImportReport, target: Path | IO[bytes], language: Language) -> int:
    """Write the report's bad rows as an .xlsx to `target` (a path or a binary file); how many."""
    header = report.header or _widest(report.bad)
    columns = bad_row_columns(header, language)
    with write_xlsx(
        columns, _rows(report, len(header), language), sheet_name=SHEET_NAME.translate(language)
    ) as workbook:
        if isinstance(target, Path):
            with target.open("wb") as out:
                shutil.copyfileobj(workbook, out)
        else:
            shutil.copyfileobj(workbook, target)
    return len(report.bad)


def _widest(bad: Sequence[BadRow]) -> tuple[str, ...]:
    """Column letters for a file read without a header (JSON Lines: one column, the line)."""
    width = max((len(b.cells) for b in bad), default=0)
    return tuple(_letters(i) for i in range(width))


def _letters(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name
