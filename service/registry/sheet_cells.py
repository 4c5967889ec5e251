"""A sheet's cells as a profile's values: codes or their names, yes/no, days, numbers, lists.

A cell may hold what the API takes (440781, provincial, true, 2026-01-31) or what people
write in an office's sheet: the vocabularies' names in any of the three languages (台山市,
省级专精特新中小企业), or a part of one name and of no other (省级专精特新, 小巨人, 台山);
是/否; a day as an Excel date or as 2026/1/31 or 2026年1月31日; 60,000,000 or 6.0E7; bank ids
separated by `;`, `；` or `、`. The names come from the vocabularies (policies/vocabularies.yaml),
never from a copy here. A cell that is none of these is passed on as written, for the profile to
refuse, naming the field.
"""

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from typing import Any

from service.core.i18n import LANGUAGES, message
from service.policy.profile import NULLABLE_FIELDS
from service.policy.profile_form import CODE_LISTS, DIGIT_GROUPS, NONE_OF_THESE, field_kind
from service.policy.vocabulary import Vocabularies, vocabularies

_TRUE = frozenset({"true", "1", "yes", "y", "是", "有", "√", "✓"})
_FALSE = frozenset({"false", "0", "no", "n", "否", "无", "無", "×", "✗"})
_DAY = re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?")
_COMPACT_DAY = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_DECIMAL = re.compile(r"[+-]?[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?")
_LIST_SEPARATORS = re.compile(r"[;；、,，\s]+")
_IGNORED = re.compile(r"[\s\"'“”‘’「」『』]+")
EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel's 1900 leap day not counted)
SERIAL_DAYS = range(1, 2_958_466)  # up to 9999-12-31
MIN_PART = 2  # part of a name names it when this long and in no other name of the list


def cell_text(value: object) -> str:
    """A cell as text, as the file shows it: a day as YYYY-MM-DD, 12.0 as 12, empty as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


def name_key(text: str) -> str:
    """A name as compared: NFKC (full-width as half-width), no spaces or quotes, lower case."""
    return _IGNORED.sub("", unicodedata.normalize("NFKC", text)).lower()


def code_names(vocab: Vocabularies) -> dict[str, dict[str, str]]:
    """For each coded field: every code and every name of a code (compared) to the code."""
    known = _TABLES.get(id(vocab))
    if known is None or known[0] is not vocab:  # by identity: hashing the model is slow
        known = _TABLES[id(vocab)] = (vocab, _code_names(vocab))
    return known[1]


_TABLES: dict[int, tuple[Vocabularies, dict[str, dict[str, str]]]] = {}


def _code_names(vocab: Vocabularies) -> dict[str, dict[str, str]]:
    none_of_these = {name_key(message("None of these").translate(x)) for x in LANGUAGES}
    tables: dict[str, dict[str, str]] = {}
    for field, list_name in CODE_LISTS.items():
        table: dict[str, str] = {}
        for term in vocab.terms(list_name):
            for name in (term.code, *term.names().values()):
                table.setdefault(name_key(name), term.code)
        if field in NULLABLE_FIELDS:
            for key in (*none_of_these, NONE_OF_THESE):
                table.setdefault(key, NONE_OF_THESE)
        tables[field] = table
    return tables


def _code(field: str, value: object) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = cell_text(value)  # 440781 typed as a number
    if not isinstance(value, str):
        return value
    table = code_names(vocabularies())[field]
    key = name_key(value)
    code = table.get(key)
    if code is None and len(key) >= MIN_PART:
        within = {c for name, c in table.items() if key in name}
        code = within.pop() if len(within) == 1 else None
    if code == NONE_OF_THESE:
        return None
    return code if code is not None else value.strip()


def _yes_no(value: object) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return value == 1
    if isinstance(value, str) and name_key(value) in _TRUE | _FALSE:
        return name_key(value) in _TRUE
    return value


def _day(value: object) -> Any:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and int(value) in SERIAL_DAYS:  # a day left as a number
            return (EXCEL_EPOCH + timedelta(days=int(value))).isoformat()
        return value
    if not isinstance(value, str):
        return value
    text = unicodedata.normalize("NFKC", value).strip()
    found = _DAY.fullmatch(text) or _COMPACT_DAY.fullmatch(text)
    if found:
        try:
            return date(*(int(g) for g in found.groups())).isoformat()
        except ValueError:
            return text  # 2026-02-30: refused by the profile, naming the field
    return text


def _number(value: object) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if not isinstance(value, str):
        return value
    text = DIGIT_GROUPS.sub("", unicodedata.normalize("NFKC", value).strip())
    if _DECIMAL.fullmatch(text):
        number = float(text)
        if number.is_integer() and abs(number) < 1e16:
            return int(number) if "." in text or "e" in text.lower() else int(text)
    return value.strip()


def _banks(value: object) -> Any:
    if isinstance(value, str):
        return [b for b in _LIST_SEPARATORS.split(value.strip()) if b]
    return [cell_text(value)]


def _text(value: object) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return cell_text(value)  # a code typed as a number: 3311 for C3311 is refused as text
    return value.strip() if isinstance(value, str) else cell_text(value)


def profile_value(field: str, value: object) -> Any:
    """A cell's value for a profile field (`null` gives null where the field allows it)."""
    nullable = field in NULLABLE_FIELDS
    if nullable and isinstance(value, str) and value.strip().lower() == NONE_OF_THESE:
        return None
    if field == "bank_consents":
        return _banks(value)
    kind = field_kind(field)
    if kind == "choice":
        return _code(field, value)
    if kind == "yes_no":
        return _yes_no(value)
    if kind == "date":
        return _day(value)
    if kind == "number":
        return _number(value)
    return _text(value)


def is_empty(value: object) -> bool:
    """Whether a cell holds nothing (None, or only spaces)."""
    return value is None or (isinstance(value, str) and not value.strip())
