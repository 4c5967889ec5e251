"""The columns of an import sheet: which header names which profile field (the one table).

A header cell may be the field's own name (`uscc`), its label in any of the three languages
(统一社会信用代码, 統一社會信用代碼, Unified social credit code: the form's labels,
service/policy/profile_form.py), with or without the unit or note in brackets at its end
(从业人员数 for 从业人员数（人）), or one of the short names offices write (梯度层级, 认定有效期至).
Headers are compared after NFKC (full-width brackets and letters as half-width), without spaces,
quotes or a trailing `*`, and without regard to case: 所在县(市、区) is 所在县（市、区）.

The template (GET /v1/enterprises/import-template.xlsx) writes `column_titles(language)`; a
result workbook adds the row-number and error columns, which an import reads past, so that a
corrected result workbook can be imported again.
"""

import re
import unicodedata
from functools import cache

from service.core.i18n import LANGUAGES, Language, Message, message
from service.policy.profile_form import LABELS, form_fields

# Consent to banks is not on the form (it decides no match), but an import may carry it.
EXTRA_LABELS: dict[str, Message] = {"bank_consents": message("Banks consented to (bank ids)")}
# Short names in use in the offices' own sheets, Simplified and Traditional.
ALIASES: dict[str, tuple[str, ...]] = {
    "uscc": ("信用代码", "信用代碼", "社会信用代码", "社會信用代碼"),
    "name": ("企业名称（全称）", "企業名稱（全稱）", "名称", "名稱"),
    "county": (
        "所在县(市、区)",
        "所在縣(市、區)",
        "县(市、区)",
        "縣(市、區)",
        "所在县区",
        "所在縣區",
    ),
    "industry_code": ("行业代码", "行業代碼", "国民经济行业代码", "國民經濟行業代碼"),
    "tier": ("梯度层级", "梯度層級", "梯度培育层级", "梯度培育層級", "认定层级", "認定層級"),
    "tier_valid_until": ("认定有效期至", "認定有效期至", "有效期至", "认定有效期", "認定有效期"),
    "employees": ("从业人数", "從業人數", "员工人数", "員工人數"),
    "revenue_cny": ("营业收入", "營業收入", "营业收入（元）", "營業收入（元）"),
    "bank_consents": ("授权银行", "授權銀行"),
}
ROW_COLUMN = message("Row")  # the result workbook's first column: the row's number in the file
ERROR_COLUMN = message("Error")  # its last: what was wrong, naming the field
_UNIT = re.compile(r"\([^()]*\)$")  # a label's unit or note at its end, once compared
_IGNORED = re.compile(r"[\s\"'“”‘’「」『』*]+")


def columns() -> tuple[str, ...]:
    """The profile fields an import sheet may hold, in the template's order."""
    return (*form_fields(), *EXTRA_LABELS)


def column_label(field: str) -> Message | None:
    """The label of a field, to translate (None for no such field)."""
    return LABELS.get(field) or EXTRA_LABELS.get(field)


def column_title(field: str, language: Language = "zh-Hans") -> str:
    """The header a sheet in `language` gives a field (its label; the template's header)."""
    label = column_label(field)
    return label.translate(language) if label else field


def column_titles(language: Language = "zh-Hans") -> tuple[str, ...]:
    """Every column's header in `language`, in the template's order."""
    return tuple(column_title(f, language) for f in columns())


def header_key(text: str) -> str:
    """A header as compared: NFKC, no spaces, quotes or `*`, lower case."""
    return _IGNORED.sub("", unicodedata.normalize("NFKC", text)).lower()


@cache
def header_table() -> dict[str, str]:
    """Every header an import reads, as compared (header_key), to the field it names."""
    table: dict[str, str] = {}
    for field in columns():
        names = [field, *ALIASES.get(field, ())]
        names += [column_title(field, language) for language in LANGUAGES]
        for name in names:
            table.setdefault(header_key(name), field)
            table.setdefault(_UNIT.sub("", header_key(name)), field)  # 营业收入 for 营业收入（元）
    return table


@cache
def result_columns() -> frozenset[str]:
    """The result workbook's own columns (row number, error) in every language, as compared."""
    return frozenset(
        header_key(text.translate(language))
        for text in (ROW_COLUMN, ERROR_COLUMN)
        for language in LANGUAGES
    )


def header_field(text: str) -> str | None:
    """The profile field a header cell names, or None when it names none."""
    return header_table().get(header_key(text))
