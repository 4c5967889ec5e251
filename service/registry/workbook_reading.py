"""An .xlsx workbook's first sheet, row by row, with openpyxl in read-only mode.

Values only (`data_only`): a formula is never evaluated, the value Excel saved with it is read;
a formula saved without one (a file written by a program and never opened in Excel) is marked
UNCALCULATED, for the row to be refused naming the column. An error value (#N/A, #DIV/0!) is
marked too. Rows are read as the XML gives them, with their own numbers; the gaps between them
are empty rows that cost nothing, and the sheet's declared `<dimension>` is never used.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

from service.core.errors import NotAWorkbook
from service.core.i18n import message
from service.registry.workbook_guard import SheetLimits, open_zip, scan_sheet


class Marker(str):
    """A cell's value that is no value: a formula without its result, or an error."""


UNCALCULATED = Marker("")  # a formula saved without the value it gives
BEYOND = Marker(" ")  # a value past the columns an import reads
MAX_COLUMNS = 1024


class _ValuesParser(WorkSheetParser):
    """openpyxl's sheet parser, telling a formula without a saved value from an empty cell."""

    def parse_cell(self, element: Any) -> dict[str, Any]:
        cell: dict[str, Any] = super().parse_cell(element)
        if cell["value"] is None and element.find(FORMULA_TAG) is not None:
            cell["value"] = UNCALCULATED
        elif cell["data_type"] == "e":
            cell["value"] = Marker(str(cell["value"]))
        return cell


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
            scan_sheet(archive, sheet._worksheet_path, sheet.title, limits)
            yield sheet.title, _rows(sheet)
        finally:
            workbook.close()


def _rows(sheet: Any) -> Iterator[Row]:  # a ReadOnlyWorksheet; its parts are private
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
            for number, cells in parser.parse():
                yield number, _values(cells)
        except (KeyError, IndexError, ValueError, SyntaxError) as e:  # checked before: rare
            raise NotAWorkbook(
                message("sheet {sheet} cannot be read ({error})", sheet=sheet.title, error=repr(e))
            ) from e


def _values(cells: list[dict[str, Any]]) -> list[Any]:
    """A row's values from column A, the missing cells None; past MAX_COLUMNS, one BEYOND."""
    values: list[Any] = []
    for cell in cells:
        column, value = cell["column"], cell["value"]
        if column > MAX_COLUMNS:
            if value is not None:
                values.append(BEYOND)
                break
            continue
        if column > len(values) + 1:
            values.extend([None] * (column - len(values) - 1))
        if column == len(values) + 1:
            values.append(value)
    return values
