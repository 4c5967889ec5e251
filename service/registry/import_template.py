"""The import template: an .xlsx a platform user fills in and uploads (GET
/v1/enterprises/import-template.xlsx).

One sheet (企业名单) with a column per profile field under its Chinese header, the header row
frozen, each column as wide as its header needs, and on every data row:
- a drop-down of the Chinese labels for each enumerated field (counties, tiers, clusters …);
  a list longer than Excel's 255 characters is written to a hidden sheet (代码表) and referred to
  by its range;
- a 是/否 drop-down for each yes/no field;
- whole numbers (within the field's bounds) and dates checked, with a number or date format.
A second sheet (说明) lists each column: its header, its meaning, whether it is required, and
the values it takes. Nothing in it is about any firm: it is built from the profile's schema.
"""

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import xlsxwriter

from service.policy.profile import Profile
from service.policy.profile_form import choices, field_kind
from service.policy.vocabulary import vocabularies
from service.registry.sheet_columns import columns

DATA_ROWS = 5000  # the rows the validations cover (a longer list: copy the row down)
EXCEL_LIST_CHARS = 255
SHEET, LISTS, HELP = "企业名单", "代码表", "说明"
YES_NO = ("是", "否")
REQUIRED = frozenset({"uscc", "county"})


@dataclass(frozen=True)
class TemplateColumn:
    """One column of the template: its field, header, kind, meaning and allowed labels."""

    field: str
    header: str
    kind: str  # choice, yes_no, number, date or text (the form's kinds), or list
    meaning: str
    labels: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    @property
    def required(self) -> bool:
        """Whether a row must give it."""
        return self.field in REQUIRED


def _bounds(schema: dict[str, Any]) -> dict[str, Any]:
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    return options[0] if options else schema


def template_columns(headers: Mapping[str, str]) -> list[TemplateColumn]:
    """The template's columns, in the form's order then bank consents, under `headers` (field ->
    header); a choice's labels are its Simplified Chinese names, as the form shows them."""
    properties = Profile.model_json_schema()["properties"]
    vocab = vocabularies()
    template: list[TemplateColumn] = []
    for field in columns():
        kind = "list" if field == "bank_consents" else field_kind(field)
        bounds = _bounds(properties[field])
        labels = choices(field, vocab, "zh-Hans") if kind == "choice" else ()
        template.append(
            TemplateColumn(
                field=field,
                header=headers.get(field, field),
                kind=kind,
                meaning=properties[field].get("description", "").partition("。")[0].strip(),
                labels=tuple(name for _, name in labels),
                minimum=bounds.get("minimum"),
                maximum=bounds.get("maximum"),
            )
        )
    return template


def allowed_text(column: TemplateColumn) -> str:
    """What the instructions say a column takes."""
    if column.kind == "choice":
        return "、".join(column.labels) + "（可填中文名称或代码）"
    if column.kind == "yes_no":
        return "是 / 否"
    if column.kind == "number":
        return f"整数，{column.minimum} 至 {column.maximum}"
    if column.kind == "date":
        return "日期，如 2026-12-31"
    if column.kind == "list":
        return "银行编号，多个以 ; 分隔"
    return "文本"


def template_workbook(headers: Mapping[str, str]) -> bytes:
    """The template as .xlsx bytes (some tens of kilobytes: built in memory)."""
    columns = template_columns(headers)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(SHEET)
    lists = book.add_worksheet(LISTS)
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    needed = book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
    formats = {
        "number": book.add_format({"num_format": "0"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "text": book.add_format({"num_format": "@"}),
    }
    sheet.freeze_panes(1, 0)
    list_column = 0
    for index, column in enumerate(columns):
        sheet.write_string(0, index, column.header, needed if column.required else head)
        width = max(12, 2 * len(column.header) + 2)
        cell_format = None if column.kind == "choice" else formats.get(column.kind, formats["text"])
        sheet.set_column(index, index, width, cell_format)
        validation = column_validation(column, lists, list_column)
        if column.kind == "choice" and len(",".join(column.labels)) > EXCEL_LIST_CHARS:
            list_column += 1
        if validation is not None:
            sheet.data_validation(1, index, DATA_ROWS, index, validation)
    lists.hide()
    _instructions(book, columns, head)
    book.close()
    return buffer.getvalue()


def column_validation(
    column: TemplateColumn, lists: Any, list_column: int
) -> dict[str, Any] | None:
    """The data validation of a column (XlsxWriter's options), a long list written to `lists`."""
    if column.kind == "choice":
        if len(",".join(column.labels)) <= EXCEL_LIST_CHARS:
            return {"validate": "list", "source": list(column.labels)}
        for row, label in enumerate(column.labels):
            lists.write_string(row, list_column, label)
        letter = xlsxwriter.utility.xl_col_to_name(list_column)
        return {
            "validate": "list",
            "source": f"='{LISTS}'!${letter}$1:${letter}${len(column.labels)}",
        }
    if column.kind == "yes_no":
        return {"validate": "list", "source": list(YES_NO)}
    if column.kind == "number" and column.minimum is not None and column.maximum is not None:
        return {
            "validate": "integer",
            "criteria": "between",
            "minimum": column.minimum,
            "maximum": column.maximum,
            "error_message": f"{column.header}：请填 {column.minimum} 至 {column.maximum} 的整数",
        }
    if column.kind == "date":
        return {
            "validate": "date",
            "criteria": ">=",
            "value": "1900-01-01",
            "error_message": f"{column.header}：请填日期，如 2026-12-31",
        }
    return None


def _instructions(book: Any, columns: list[TemplateColumn], head: Any) -> None:
    sheet = book.add_worksheet(HELP)
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet.write_row(0, 0, ("列名", "含义", "是否必填", "可填的值"), head)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 50, wrap)
    sheet.set_column(2, 2, 10)
    sheet.set_column(3, 3, 70, wrap)
    sheet.freeze_panes(1, 0)
    for row, column in enumerate(columns, start=1):
        sheet.write_string(row, 0, column.header)
        sheet.write_string(row, 1, column.meaning)
        sheet.write_string(row, 2, "必填" if column.required else "选填")
        sheet.write_string(row, 3, allowed_text(column))
    note = len(columns) + 2
    sheet.write_string(note, 0, "填写说明")
    sheet.write_string(
        note,
        1,
        "在“企业名单”表中每行填写一家企业；留空表示“未提供”。上传：POST "
        "/v1/enterprises/imports（multipart/form-data，字段 file）。有问题的行会列在结果工作簿中，"
        "并写明原因；其余行照常保存。",
    )
