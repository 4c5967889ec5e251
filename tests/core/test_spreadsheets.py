"""The spreadsheet writer every export uses: CSV with a BOM in chunks, .xlsx as strings."""

import csv
import io

import openpyxl
import pytest

from service.core import spreadsheets
from service.core.spreadsheets import Cell, csv_chunks, file_chunks, neutralised, write_xlsx

COLUMNS = ["企业名称", "数量"]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+86", "'+86"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("台山市=1", "台山市=1"),
        ("", ""),
        (-5, -5),
        (None, None),
    ],
)
def test_a_cell_read_as_a_formula_is_prefixed(value: object, written: object) -> None:
    assert neutralised(value) == written  # type: ignore[arg-type]
    chunks = b"".join(csv_chunks(["a"], [[value]]))  # type: ignore[list-item]
    [_, [cell]] = list(csv.reader(io.StringIO(chunks.decode("utf-8-sig"))))
    assert cell == ("" if written is None else str(written))


def test_csv_comes_in_chunks_and_opens_with_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spreadsheets, "CHUNK_BYTES", 100)
    rows: list[list[Cell]] = [[f"江门企业{n}", n] for n in range(50)]
    chunks = list(csv_chunks(COLUMNS, rows))
    assert len(chunks) >= 5 and all(chunks) and chunks[0].startswith(b"\xef\xbb\xbf")
    read = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert read[0] == COLUMNS and read[50] == ["江门企业49", "49"]


def test_an_xlsx_holds_strings_never_formulas() -> None:
    workbook = write_xlsx(COLUMNS, [["=1+1", 3], ["鹤山市", None]], sheet_name="导出")
    content = b"".join(file_chunks(workbook))
    sheet = openpyxl.load_workbook(io.BytesIO(content))["导出"]
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == COLUMNS
    assert (rows[1][0].value, rows[1][0].data_type) == ("=1+1", "s")
    assert (rows[1][1].value, rows[1][1].data_type) == (3, "n")
    assert rows[2][0].value == "鹤山市" and rows[2][1].value is None


def test_an_empty_xlsx_still_has_its_headers() -> None:
    content = b"".join(file_chunks(write_xlsx(COLUMNS, [], sheet_name="空")))
    sheet = openpyxl.load_workbook(io.BytesIO(content)).worksheets[0]
    assert [c.value for c in next(sheet.iter_rows())] == COLUMNS


def test_past_excels_row_limit_a_further_sheet_begins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spreadsheets, "XLSX_MAX_ROWS", 3)
    content = b"".join(
        file_chunks(write_xlsx(COLUMNS, ([str(n), n] for n in range(5)), sheet_name="表"))
    )
    sheets = openpyxl.load_workbook(io.BytesIO(content)).worksheets
    assert [s.title for s in sheets] == ["表", "表 2", "表 3"]
    assert [[c.value for c in r] for r in sheets[1].iter_rows()] == [COLUMNS, ["2", 2], ["3", 3]]
