"""Import files refused whole, each naming its cause as a problem of its own; nothing stored."""

import io
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from service.core.errors import (
    BadHeader,
    MergedCells,
    NotAWorkbook,
    SheetRefused,
    TooManyRows,
    UnknownEncoding,
    UnsupportedSheet,
    WorkbookTooLarge,
)
from service.core.tables import ENTERPRISE
from service.registry.sheet_reading import open_sheet
from service.registry.workbook_guard import SheetLimits
from service.registry.workbook_reading import workbook_rows
from tests.factories import count_enterprises, import_quietly, new_uscc


def rows_of(path: Path, limits: SheetLimits | None = None) -> list[int]:
    """The numbers of the rows read from a file."""
    with open_sheet(path, limits) as sheet:
        return [row.line for row in sheet.rows]


def workbook(path: Path, rows: dict[int, list[str]], **options: bool) -> Path:
    """An .xlsx with these rows at these numbers (0 is the header), written in constant memory."""
    book = xlsxwriter.Workbook(path, {"constant_memory": True, **options})
    sheet = book.add_worksheet()
    for at in sorted(rows):
        sheet.write_row(at, 0, rows[at])
    book.close()
    return path


def test_a_file_that_is_not_a_workbook(tmp_path: Path) -> None:
    text = tmp_path / "firms.xlsx"
    text.write_text("uscc,county\n", encoding="utf-8")
    with pytest.raises(NotAWorkbook, match="not a zip file") as refused:
        rows_of(text)
    assert refused.value.document("en")["type"].endswith("/not-a-workbook")
    other_zip = tmp_path / "photos.xlsx"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("photo.jpg", b"\xff\xd8")
    with pytest.raises(NotAWorkbook, match=r"not an \.xlsx workbook"):
        rows_of(other_zip)
    locked = tmp_path / "locked.xlsx"  # what Excel saves with a password: an OLE compound file
    locked.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    with pytest.raises(NotAWorkbook, match="password-protected"):
        rows_of(locked)
    with pytest.raises(UnsupportedSheet, match=r"save it as \.xlsx"):
        rows_of(tmp_path / "old.xls")


def test_a_zip_bomb_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * 20_000_000 + b"/>")
    assert bomb.stat().st_size < 100_000
    with pytest.raises(WorkbookTooLarge, match="zip bomb") as refused:
        rows_of(bomb)
    assert refused.value.status == 413
    strings = tmp_path / "strings.xlsx"
    with zipfile.ZipFile(strings, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/sharedStrings.xml", bytes(range(256)) * 300_000)  # 77 MB, held
    with pytest.raises(
        WorkbookTooLarge,
        match=r"sharedStrings\.xml in the workbook would be 76,800,000 bytes, read whole",
    ):
        rows_of(strings)
    small = workbook(tmp_path / "small.xlsx", {0: ["uscc"], 1: [new_uscc()]})
    with pytest.raises(WorkbookTooLarge, match="uncompressed"):
        rows_of(small, SheetLimits(max_uncompressed_bytes=2_000))


def test_merged_cells_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "merged.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet("名单")
    sheet.write_row(0, 0, ["统一社会信用代码", "所在县（市、区）"])
    sheet.merge_range(1, 1, 2, 1, "台山市")
    sheet.write_column(1, 0, [new_uscc(), new_uscc()])
    book.close()
    with pytest.raises(MergedCells, match="名单"):
        rows_of(path)


def test_unknown_and_duplicated_columns_are_named(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "header.xlsx", {0: ["企业名称", "营收", "name", "所在县（市、区）"], 1: ["x"]}
    )
    with pytest.raises(BadHeader) as refused:
        rows_of(path)
    named = [(e["column"], e["field"], e["type"]) for e in refused.value.errors or ()]
    assert named == [(2, "营收", "unknown_column"), (3, "name", "duplicated_column")]
    assert {e["in"] for e in refused.value.document("en")["errors"]} == {"file"}
    document = refused.value.document("zh-Hans")
    assert "营收" in document["detail"] and document["title"] == "表头有误"


def test_a_million_empty_rows_are_refused_without_reading_them(
    database: str, tmp_path: Path
) -> None:
    first = new_uscc()
    path = workbook(
        tmp_path / "long.xlsx",
        {0: ["uscc", "county"], 1: [first, "440781"], 1_000_001: [new_uscc(), "440781"]},
    )
    with pytest.raises(TooManyRows, match="1,000,002"):
        import_quietly(path, database)
    assert count_enterprises(database, ENTERPRISE.c.uscc == first) == 0
    lines = tmp_path / "empty.csv"
    lines.write_bytes(b"uscc,county\n" + f"{first},440781\n".encode() + b",\n" * 1_000_000)
    with pytest.raises(TooManyRows, match="1,000,003 lines"):
        import_quietly(lines, database)
    lines.write_bytes(b"uscc,county\r" + f"{first},440781\r".encode() + b",\r" * 1_000_000)
    with pytest.raises(TooManyRows, match="1,000,003 lines"):
        import_quietly(lines, database)
    assert count_enterprises(database, ENTERPRISE.c.uscc == first) == 0


def test_a_huge_declared_dimension_allocates_nothing(tmp_path: Path) -> None:
    whole = workbook(tmp_path / "small.xlsx", {0: ["uscc", "county"], 1: ["a", "440781"]})
    claimed = io.BytesIO()
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(claimed, "w") as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename.startswith("xl/worksheets/"):
                data = data.replace(
                    b'<dimension ref="A1:B2"/>', b'<dimension ref="A1:XFD1048576"/>'
                )
                assert b"XFD1048576" in data
            target.writestr(member, data)
    (tmp_path / "claimed.xlsx").write_bytes(claimed.getvalue())
    with open_sheet(tmp_path / "claimed.xlsx") as sheet:
        assert [row.cells for row in sheet.rows] == [("a", "440781")]


def test_rows_are_read_down_to_the_last_with_a_value(tmp_path: Path) -> None:
    gap = workbook(tmp_path / "gap.xlsx", {0: ["uscc"], 1: ["a"], 2: ["b"], 5000: ["c"]})
    assert rows_of(gap) == [2, 3, 5001]  # no run of empty rows ends the data
    with pytest.raises(TooManyRows):
        rows_of(gap, SheetLimits(max_rows=10))


def test_rows_formatted_below_the_data_are_not_read(tmp_path: Path) -> None:
    path = tmp_path / "formatted.xlsx"
    book = xlsxwriter.Workbook(path, {"constant_memory": True})
    sheet, shaded = book.add_worksheet(), book.add_format({"bg_color": "#FFFFCC"})
    # past the guard's first chunk (1 MiB of XML), empty rows with a style between values
    values = {0: ["uscc", "name"], **{n: [f"u{n}", "企业" * 20] for n in range(1, 20_001)}}
    values[60_000] = ["last", "尾行"]
    for number in range(0, 90_000):
        if number in values:
            sheet.write_row(number, 0, values[number])
        else:
            sheet.write_blank(number, 0, None, shaded)  # a cell with a style and no value
            sheet.write_blank(number, 1, None, shaded)
    book.close()
    read = rows_of(path)
    assert read[:2] == [2, 3] and read[-2:] == [20_001, 60_001] and len(read) == 20_001
    with workbook_rows(path, SheetLimits()) as (_, rows):
        assert max(number for number, _ in rows) == 60_001  # the formatted rows below: unread


def test_text_in_neither_encoding_is_refused_not_a_codec_error(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_bytes("统一社会信用代码,企业名称\n".encode() + b"x,\x80\x80\n")
    with pytest.raises(UnknownEncoding, match="neither UTF-8 nor GB18030"):
        rows_of(path)
    path.write_bytes("uscc\n".encode("utf-16"))
    with pytest.raises(UnknownEncoding, match="UTF-16"):
        rows_of(path)
    late = tmp_path / "late.csv"  # UTF-8 for a megabyte, then a byte that is not
    late.write_bytes(b"uscc,name\n" + b"x,y\n" * 300_000 + "x,甲\n".encode("gb18030"))
    with open_sheet(late) as sheet:  # the whole file is checked: it is GB18030
        assert [row.cells for row in sheet.rows][-1] == ("x", "甲")


def test_a_refusal_is_a_problem_in_every_language(tmp_path: Path) -> None:
    path = tmp_path / "firms.txt"
    path.write_bytes(b"")
    with pytest.raises(SheetRefused) as refused:
        rows_of(path)
    assert refused.value.status == 415
    assert "只读取" in refused.value.document("zh-Hans")["detail"]
    assert "只讀取" in refused.value.document("zh-Hant")["detail"]


def test_the_sheet_must_be_a_zip_read_through_its_directory(tmp_path: Path) -> None:
    truncated = tmp_path / "cut.xlsx"
    whole = workbook(tmp_path / "whole.xlsx", {0: ["uscc"], 1: ["a"]}).read_bytes()
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(NotAWorkbook):
        rows_of(truncated)
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(whole)) as source, zipfile.ZipFile(broken, "w") as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename.startswith("xl/worksheets/"):
                data = data.replace(b"</sheetData>", b"<row>")  # not well-formed
            target.writestr(member, data)
    (tmp_path / "broken.xlsx").write_bytes(broken.getvalue())
    with pytest.raises(NotAWorkbook):
        rows_of(tmp_path / "broken.xlsx")


def test_cells_past_the_header_or_under_no_header_make_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "wide.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["uscc", "", "county"])
    sheet.write_row(1, 0, ["a", "", "440781"])
    sheet.write_row(2, 0, ["b", "x", "440781"])
    sheet.write_row(3, 0, ["c", "", "440781", "more"])
    sheet.write_string(4, 0, "d")
    sheet.write_string(4, 5000, "far")  # past the columns an import reads
    sheet.write_formula(5, 3, "=1+1", None, "")  # a formula whose value is empty: no row
    book.close()
    with open_sheet(path) as read:
        rows = {row.line: row.raw for row in read.rows}
    assert rows[2] == {"uscc": "a", "county": "440781"}
    said = {n: getattr(raw, "said", lambda _: ())("en") for n, raw in rows.items()}
    assert said[3] == ("column 2 has a value but no header",)
    assert said[4] == said[5] == ("more cells than the header has columns",)
    assert set(rows) == {2, 3, 4, 5}


def test_entities_that_expand_a_billion_times_are_refused(tmp_path: Path) -> None:
    entities = '<!ENTITY a0 "xxxxxxxxxx">' + "".join(
        f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10)
    )
    laughs = f'<?xml version="1.0"?><!DOCTYPE sst [{entities}]>'.encode()
    whole = workbook(tmp_path / "small.xlsx", {0: ["uscc"], 1: ["a"]}, constant_memory=False)
    bomb = io.BytesIO()
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(bomb, "w") as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "xl/sharedStrings.xml":
                data = laughs + data[data.index(b"<sst") :].replace(b">a<", b">&a9;<")
            target.writestr(member, data)
    (tmp_path / "laughs.xlsx").write_bytes(bomb.getvalue())
    with pytest.raises(NotAWorkbook, match="amplification"):
        rows_of(tmp_path / "laughs.xlsx")
