"""Imports as offices send them: .xlsx with Chinese headers and labels, GB18030 and UTF-8-BOM
CSV; bad rows given back as a workbook with their original cells and a Chinese error."""

from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from sqlalchemy import select

from service.cli import main
from service.core.database import make_engine
from service.core.i18n import LANGUAGES, Language
from service.core.settings import get_settings
from service.core.tables import CONSENT, ENTERPRISE
from service.registry.import_result import write_bad_rows
from service.registry.importing import import_file
from service.registry.sheet_columns import column_titles, header_field
from tests.factories import DAY, import_quietly, new_uscc, real_catalogue

HEADER = [
    "统一社会信用代码",
    "企业名称",
    "所在县(市、区)",
    "梯度层级",
    "认定有效期至",
    "有银行贷款",
]
HEADER += ["营业收入（元）", "授权银行"]


def stored(database: str, uscc: str) -> dict[str, Any]:
    """The stored profile of a firm."""
    engine = make_engine(database)
    with engine.connect() as connection:
        profile: dict[str, Any] = connection.execute(
            select(ENTERPRISE.c.profile).where(ENTERPRISE.c.uscc == uscc)
        ).scalar_one()
        banks = connection.execute(select(CONSENT.c.bank_id).where(CONSENT.c.uscc == uscc))
        profile["banks"] = sorted(banks.scalars())
    engine.dispose()
    return profile


def write_workbook(path: Path, rows: list[list[Any]], header: list[str] = HEADER) -> None:
    """A workbook as an office writes one: Chinese headers, a date cell formatted as a date."""
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("企业名单")
    day = workbook.add_format({"num_format": "yyyy年m月d日"})
    sheet.write_row(0, 0, header)
    for at, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if isinstance(value, datetime):
                sheet.write_datetime(at, column, value, day)
            elif isinstance(value, str):
                sheet.write_string(at, column, value)  # "=…" too: text someone typed
            elif value is not None:
                sheet.write(at, column, value)
    workbook.close()


def test_a_workbook_with_chinese_headers_and_labels_is_stored(
    database: str, tmp_path: Path
) -> None:
    first, second, bad = new_uscc(), new_uscc(), new_uscc()
    path = tmp_path / "企业名单.xlsx"
    write_workbook(
        path,
        [
            [
                first,
                "甲公司",
                "台山市",
                "省级专精特新",
                datetime(2026, 1, 31),
                "是",
                60_000_000,
                "bank-a；bank-b",
            ],
            [
                second,
                "乙公司",
                440703,
                "市级专精特新中小企业",
                "2026年12月31日",
                "否",
                "1,200,000",
                "bank-a、bank-c",
            ],
            [bad, "丙公司", "广州市", "provincial", "2026/1/31", "true", None, None],
        ],
    )
    report = import_quietly(path, database)
    assert (report.created, len(report.bad)) == (2, 1)
    assert report.header == tuple(HEADER)
    one, two = stored(database, first), stored(database, second)
    assert (one["county"], one["tier"], one["tier_valid_until"]) == (
        "440781",
        "provincial",
        "2026-01-31",
    )
    assert (one["has_bank_loan"], one["revenue_cny"], one["banks"]) == (
        True,
        60_000_000,
        ["bank-a", "bank-b"],
    )
    assert (two["county"], two["tier"], two["tier_valid_until"]) == (
        "440703",
        "municipal",
        "2026-12-31",
    )
    assert (two["has_bank_loan"], two["revenue_cny"], two["banks"]) == (
        False,
        1_200_000,
        ["bank-a", "bank-c"],
    )
    row = report.bad[0]
    assert row.line == 4 and row.cells[:4] == (bad, "丙公司", "广州市", "provincial")
    assert row.said("zh-Hans")[0].startswith("所在县（市、区）（county）：")


def test_bad_rows_come_back_as_a_workbook_in_the_callers_language(
    database: str, tmp_path: Path
) -> None:
    good = new_uscc()
    path = tmp_path / "firms.xlsx"
    write_workbook(
        path,
        [
            [good, "好公司", "开平市", "none", None, "否", None, None],
            ["91440781BAD", '=HYPERLINK("http://x")', "开平市", "none", None, "也许", None, None],
        ],
    )
    report = import_quietly(path, database)
    assert report.created == 1 and stored(database, good)["county"] == "440783"
    languages: list[tuple[Language, str, str]] = [
        ("zh-Hans", "错误", "行号"),
        ("zh-Hant", "錯誤", "行號"),
    ]
    for language, error, row in languages:
        result = tmp_path / f"bad-{language}.xlsx"
        assert write_bad_rows(report, result, language) == 1
        sheet = openpyxl.load_workbook(result, read_only=True).worksheets[0]
        header, bad = list(sheet.values)
        assert header == (row, *HEADER, error)
        assert bad[:3] == (3, "91440781BAD", '\'=HYPERLINK("http://x")')  # no formula
        assert bad[3:7] == ("开平市", "none", None, "也许")
        problems = str(bad[-1])
        assert "统一社会信用代码（uscc）" in problems or "統一社會信用代碼（uscc）" in problems
        assert "（has_bank_loan）" in problems
    again = import_quietly(tmp_path / "bad-zh-Hans.xlsx", database)  # its own columns read past
    assert (again.stored, [b.line for b in again.bad]) == (0, [2])
    assert again.bad[0].said("en") == report.bad[0].said("en")


def test_formulas_are_read_as_saved_never_evaluated(database: str, tmp_path: Path) -> None:
    saved, unsaved = new_uscc(), new_uscc()
    path = tmp_path / "formulas.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["uscc", "county", "employees"])
    sheet.write_row(1, 0, [saved, "440781"])
    sheet.write_formula(1, 2, "=1+1", None, 7)  # the value saved with it is 7, not 2
    workbook.close()
    assert import_quietly(path, database).created == 1
    assert stored(database, saved)["employees"] == 7

    written = tmp_path / "unsaved.xlsx"  # openpyxl saves a formula without a value
    book = openpyxl.Workbook()
    page = book.active
    assert page is not None
    page.append(["统一社会信用代码", "所在县（市、区）", "从业人数"])
    page.append([unsaved, "台山市", "=1+1"])
    book.save(written)
    report = import_quietly(written, database)
    assert report.stored == 0 and report.bad[0].line == 2
    assert "(employees): a formula without a saved value" in report.bad[0].said("en")[0]


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig"])
def test_csv_saved_by_excel_on_chinese_windows(
    database: str, tmp_path: Path, encoding: str
) -> None:
    uscc = new_uscc()
    traditional = ",".join(
        column_titles("zh-Hant")[:3]
    )  # 所在縣（市、區）,企業名稱,統一社會信用代碼
    path = tmp_path / "firms.csv"
    path.write_bytes(
        (
            f"{traditional},認定有效期至,梯度層級\r\n"
            f"鶴山市,鹤山某某五金制品有限公司,{uscc},2026-6-30,國家級專精特新“小巨人”企業\r\n"
        ).encode(encoding)
    )
    report = import_quietly(path, database)
    assert (report.created, report.bad) == (1, [])
    profile = stored(database, uscc)
    assert profile["name"] == "鹤山某某五金制品有限公司" and profile["county"] == "440784"
    assert (profile["tier"], profile["tier_valid_until"]) == ("little_giant", "2026-06-30")


def test_every_column_title_reads_back_as_its_field() -> None:
    for language in LANGUAGES:
        titles = column_titles(language)
        assert len({header_field(t) for t in titles}) == len(titles)
    assert header_field("所在县(市、区)") == "county" and header_field(" 梯度層級 ") == "tier"
    assert header_field("认定有效期至") == "tier_valid_until" and header_field("营收") is None


@pytest.mark.slow
def test_the_command_writes_bad_rows_and_refuses_a_file_in_the_callers_language(
    database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = new_uscc()
    path = tmp_path / "firms.xlsx"
    write_workbook(path, [[good, "甲", "恩平市"], ["bad", "乙", "恩平市"]])
    monkeypatch.setenv("POLICY_MATCH_DATABASE_URL", database)
    get_settings.cache_clear()
    try:
        result = tmp_path / "bad.xlsx"
        command = ["--lang", "zh-Hant", "import", str(path), "--no-progress"]
        status = main([*command, "--bad-rows", str(result)])
        out, err = capsys.readouterr()
        assert status == 1 and "統一社會信用代碼（uscc）" in err and "1 bad rows" not in out
        sheet = openpyxl.load_workbook(result, read_only=True).worksheets[0]
        assert list(sheet.values)[1][:4] == (3, "bad", "乙", "恩平市")
        assert stored(database, good)["county"] == "440785"

        merged = tmp_path / "merged.xlsx"
        book = xlsxwriter.Workbook(merged)
        book.add_worksheet("名單").merge_range(0, 0, 0, 1, "统一社会信用代码")
        book.close()
        assert main(["--lang", "zh-Hans", "import", str(merged), "--no-progress"]) == 1
        assert "merged.xlsx 被拒绝，未存储任何数据：含合并单元格：" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()


def test_progress_is_told_the_rows_read(database: str, tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    lines = [f"{new_uscc()},440781" for _ in range(1_200)]
    path.write_text("uscc,county\n" + "\n".join(lines) + "\n", encoding="utf-8")
    told: list[tuple[int, int, int]] = []
    engine = make_engine(database)
    try:
        report = import_file(
            path,
            engine,
            real_catalogue(),
            changed_by="test",
            day=DAY,
            progress=False,
            on_progress=lambda read, so_far: told.append((read, so_far.created, len(so_far.bad))),
        )
    finally:
        engine.dispose()
    assert report.created == 1_200
    assert told == [(500, 500, 0), (1_000, 1_000, 0), (1_200, 1_200, 0)]  # counts as they stand
