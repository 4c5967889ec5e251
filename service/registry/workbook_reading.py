"""An .xlsx workbook's first sheet, row by row, with openpyxl in read-only mode.

Values only (`data_only`): a formula is never evaluated, the value Excel saved with it is read;
a formula saved without one (a file written by a program and never opened in Excel) is marked
UNCALCULATED, for the row to be refused naming the column. An error value (#N/A, #DIV/0!) is
marked too. Rows are read as the XML gives them, with their own numbers; the gaps between them
are empty rows that cost nothing, and the sheet's declared `<dimension>` is never used.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import (
    FORMULA_TAG,
    INLINE_STRING,
    VALUE_TAG,
    WorkSheetParser,
)
from openpyxl.xml.constants import SHEET_MAIN_NS

from service.core.errors import NotAWorkbook
from service.core.i18n import message
from service.registry.workbook_guard import SheetLimits, open_zip, scan_sheet


class Marker(str):
    """A cell's value that is no value: a formula without its result, or an error."""


UNCALCULATED = Marker("")  # a formula saved without the value it gives
BEYOND = Marker("…")  # a value past the columns an import reads
MAX_COLUMNS = 1024
TEXT_TAG = f"{{{SHEET_MAIN_NS}}}t"
RUN_TAG = f"{{{SHEET_MAIN_NS}}}r"


class _ValuesParser(WorkSheetParser):
    """openpyxl's sheet parser, its rows read as plain values (a row's cells as a list from
    column A); a formula without a saved value, or an error value, marked."""

    def parse_row(self, row: Any) -> tuple[int, list[Any]]:
        number = row.get("r")
        self.row_counter = int(number) if number and number.isdigit() else self.row_counter + 1
        values: list[Any] = []
        for element in row:
            reference = element.get("r")
            column = _column(reference) if reference else len(values) + 1
            if column > MAX_COLUMNS:
                if self._value(element) is not None:
                    values.append(BEYOND)
                    break
                continue
            if column > len(values) + 1:
                values.extend([None] * (column - len(values) - 1))
            if column == len(values) + 1:
                values.append(self._value(element))
        return self.row_counter, values

    def _value(self, element: Any) -> Any:
        kind = element.get("t", "n")
        if kind == "inlineStr":
            return _inline_text(element)
        value = element.findtext(VALUE_TAG) or None
        if value is None:
            return UNCALCULATED if element.find(FORMULA_TAG) is not None else None
        if kind == "n":
            number = float(value) if "." in value or "e" in value.lower() else int(value)
            style = int(element.get("s", 0))
            if style in self.date_formats:
                try:
                    return from_excel(number, self.epoch, timedelta=style in self.timedelta_formats)
                except (OverflowError, ValueError):
                    return Marker("#VALUE!")
            return number
        if kind == "s":
            return self.shared_strings[int(value)]
        if kind == "b":
            return value.strip() in ("1", "true")
        if kind == "e":
            return Marker(value)
        if kind == "d":  # an ISO 8601 day or time, as some programs write dates
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                return value
        return value  # "str": a formula's text result


def _inline_text(element: Any) -> str | None:
    """An inline string's text: its own `t` and its runs' (phonetic guides left out)."""
    string = element.find(INLINE_STRING)
    if string is None:
        return None
    parts = []
    for part in string:
        if part.tag == TEXT_TAG:
            parts.append(part.text or "")
        elif part.tag == RUN_TAG:
            parts.append(part.findtext(TEXT_TAG) or "")
    return "".join(parts)


def _column(reference: str) -> int:
    """The column number of a cell reference: 3 for C17."""
    letters = reference.rstrip("0123456789")
    number = _COLUMNS.get(letters)
    if number is None:
        number = _COLUMNS[letters] = column_index_from_string(letters)
    return number


_COLUMNS: dict[str, int] = {}


Row = tuple[int, list[Any]]  # the row's number in the sheet, its values from column A


@contextmanager
def workbook_rows(path: Path, limits: SheetLimits) -> Iterator[tuple[str, Iterator[Row]]]:
    """The first sheet's title and its rows (number, values), once the workbook has passed
    the guard (zip sizes, merged cells, rows)."""
    with open_zip(path, limits) as archive, path.open("rb") as file:
        try:
            workbook = load_workbook(file, read_only=True, data_only=True)
        except Exception as e:  # openpyxl raises what its parts raise: KeyError, ParseError …
            raise NotAWorkbook(
                message("{file} is not a workbook ({error})", file=path.name, error=repr(e))
            ) from e
        try:
            sheets = [s for s in workbook.worksheets if isinstance(s, ReadOnlyWorksheet)]
            if not sheets:
                raise NotAWorkbook(message("{file} has no worksheet", file=path.name))
            sheet: Any = sheets[0]
            last = scan_sheet(archive, sheet._worksheet_path, sheet.title, limits)
            yield sheet.title, _rows(sheet, last)
        finally:
            workbook.close()


def _rows(sheet: Any, last: int | None) -> Iterator[Row]:  # a ReadOnlyWorksheet (private parts)
    """The sheet's rows, up to its `last` row with a value (None: to its end)."""
    workbook = sheet.parent
    with sheet._get_source() as source:
        parser = _ValuesParser(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        try:
            for row in parser.parse():
                if last is not None and row[0] > last:
                    return  # below the data: empty, if formatted
                yield row
        except (KeyError, IndexError, ValueError, SyntaxError) as e:  # checked before: rare
            raise NotAWorkbook(
                message("sheet {sheet} cannot be read ({error})", sheet=sheet.title, error=repr(e))
            ) from e
