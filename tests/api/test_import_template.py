"""GET /v1/enterprises/import-template.xlsx: read back with openpyxl, it has what a filler needs."""

import io

import openpyxl
import xlsxwriter
from fastapi.testclient import TestClient
from openpyxl.utils import get_column_letter

from service.registry.import_template import LISTS, TemplateColumn, column_validation

SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _book(client: TestClient) -> openpyxl.Workbook:
    answer = client.get("/v1/enterprises/import-template.xlsx")  # no token: nothing private
    assert answer.status_code == 200
    assert answer.headers["content-type"] == SHEET
    assert "attachment" in answer.headers["content-disposition"]
    return openpyxl.load_workbook(io.BytesIO(answer.content))


def _list_of(sheet: object, validation: object) -> list[str]:
    formula = str(validation.formula1)  # type: ignore[attr-defined]
    return formula.strip('"').split(",")


def test_the_template_has_chinese_headers_a_frozen_row_and_widths(client: TestClient) -> None:
    book = _book(client)
    sheet = book["企业名单"]
    headers = [cell.value for cell in sheet[1]]
    assert {"统一社会信用代码", "企业名称", "所在县（市、区）"} <= set(headers)
    assert sheet.freeze_panes == "A2"
    assert all(sheet.column_dimensions[c].width >= 12 for c in ("A", "B", "C"))
    assert sheet.max_row == 1  # no firm in it


def test_every_coded_and_yes_no_column_has_a_drop_down(client: TestClient) -> None:
    book = _book(client)
    sheet = book["企业名单"]
    headers = {cell.value: get_column_letter(cell.column or 0) for cell in sheet[1]}
    by_column: dict[str, object] = {}
    for validation in sheet.data_validations.dataValidation:
        for cell_range in validation.sqref.ranges:
            by_column[cell_range.coord.split(":")[0].rstrip("0123456789")] = validation
    county = by_column[headers["所在县（市、区）"]]
    assert county.type == "list"  # type: ignore[attr-defined]
    assert "台山市" in _list_of(sheet, county)
    tier = _list_of(sheet, by_column[headers["优质中小企业梯度培育层级"]])
    assert "省级专精特新中小企业" in tier
    loan = by_column[headers["有银行贷款"]]
    assert _list_of(sheet, loan) == ["是", "否"]
    employees = by_column[headers["从业人员数（人）"]]
    assert employees.type == "whole"  # type: ignore[attr-defined]
    valid_until = by_column[headers["认定有效期截止日"]]
    assert valid_until.type == "date"  # type: ignore[attr-defined]
    coded = ("所属战略性产业集群", "数字化转型城市试点细分行业", "上市进程", "最高一级研发机构")
    assert all(headers[h] in by_column for h in coded)
    date_column = sheet.column_dimensions[str(headers["认定有效期截止日"])]
    assert "yy" in (date_column.number_format or "")


def test_the_instructions_sheet_lists_every_column(client: TestClient) -> None:
    book = _book(client)
    headers = [cell.value for cell in book["企业名单"][1]]
    rows = list(book["说明"].iter_rows(values_only=True))
    assert rows[0] == ("列名", "含义", "是否必填", "可填的值")
    described = {row[0]: row for row in rows[1 : len(headers) + 1]}
    assert set(described) == set(headers)
    assert described["所在县（市、区）"][2] == "必填"
    assert "台山市" in str(described["所在县（市、区）"][3])
    assert described["企业名称"][2] == "选填"


def test_a_list_longer_than_excel_allows_goes_to_the_hidden_sheet() -> None:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet, lists = book.add_worksheet("企业名单"), book.add_worksheet(LISTS)
    labels = tuple(f"很长很长的选项名称第{i}项" for i in range(40))
    column = TemplateColumn("cluster", "集群", "choice", "", labels)
    validation = column_validation(column, lists, 0)
    assert validation is not None
    assert validation["source"] == f"='{LISTS}'!$A$1:$A$40"
    sheet.data_validation(1, 0, 10, 0, validation)
    lists.hide()
    book.close()
    read = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert read[LISTS].sheet_state == "hidden"
    assert read[LISTS]["A40"].value == labels[-1]
