"""Pydantic's validation messages as msgids, by error type, so they are translated too.

Each msgid is pydantic's own English template for its error `type` (a test holds them equal to
pydantic_core's list), filled from the error's `ctx` when the answer is written. A type not
listed here keeps pydantic's English text.
"""

from collections.abc import Mapping
from typing import Any

from service.core.i18n import Message, Text, message

# type -> pydantic's message template (the msgid); the types our models and parameters can raise
TEMPLATES: dict[str, Message] = {
    "missing": message("Field required"),
    "extra_forbidden": message("Extra inputs are not permitted"),
    "json_invalid": message("Invalid JSON: {error}"),
    "json_type": message("JSON input should be string, bytes or bytearray"),
    "model_type": message("Input should be a valid dictionary or instance of {class_name}"),
    "model_attributes_type": message(
        "Input should be a valid dictionary or object to extract fields from"
    ),
    "none_required": message("Input should be None"),
    "greater_than": message("Input should be greater than {gt}"),
    "greater_than_equal": message("Input should be greater than or equal to {ge}"),
    "less_than": message("Input should be less than {lt}"),
    "less_than_equal": message("Input should be less than or equal to {le}"),
    "multiple_of": message("Input should be a multiple of {multiple_of}"),
    "finite_number": message("Input should be a finite number"),
    "too_short": message(
        "{field_type} should have at least {min_length} item{expected_plural} after validation, "
        "not {actual_length}"
    ),
    "too_long": message(
        "{field_type} should have at most {max_length} item{expected_plural} after validation, "
        "not {actual_length}"
    ),
    "iterable_type": message("Input should be iterable"),
    "string_type": message("Input should be a valid string"),
    "string_unicode": message(
        "Input should be a valid string, unable to parse raw data as a unicode string"
    ),
    "string_too_short": message(
        "String should have at least {min_length} character{expected_plural}"
    ),
    "string_too_long": message(
        "String should have at most {max_length} character{expected_plural}"
    ),
    "string_pattern_mismatch": message("String should match pattern '{pattern}'"),
    "enum": message("Input should be {expected}"),
    "literal_error": message("Input should be {expected}"),
    "dict_type": message("Input should be a valid dictionary"),
    "list_type": message("Input should be a valid list"),
    "tuple_type": message("Input should be a valid tuple"),
    "set_type": message("Input should be a valid set"),
    "frozen_set_type": message("Input should be a valid frozenset"),
    "set_item_not_hashable": message("Set items should be hashable"),
    "bool_type": message("Input should be a valid boolean"),
    "bool_parsing": message("Input should be a valid boolean, unable to interpret input"),
    "int_type": message("Input should be a valid integer"),
    "int_parsing": message("Input should be a valid integer, unable to parse string as an integer"),
    "int_parsing_size": message(
        "Unable to parse input string as an integer, exceeded maximum size"
    ),
    "int_from_float": message(
        "Input should be a valid integer, got a number with a fractional part"
    ),
    "float_type": message("Input should be a valid number"),
    "float_parsing": message("Input should be a valid number, unable to parse string as a number"),
    "value_error": message("Value error, {error}"),
    "assertion_error": message("Assertion failed, {error}"),
    "date_type": message("Input should be a valid date"),
    "date_parsing": message("Input should be a valid date in the format YYYY-MM-DD, {error}"),
    "date_from_datetime_parsing": message("Input should be a valid date or datetime, {error}"),
    "date_from_datetime_inexact": message(
        "Datetimes provided to dates should have zero time - e.g. be exact dates"
    ),
    "datetime_type": message("Input should be a valid datetime"),
    "datetime_parsing": message("Input should be a valid datetime, {error}"),
    "datetime_from_date_parsing": message("Input should be a valid datetime or date, {error}"),
    "timezone_naive": message("Input should not have timezone info"),
    "timezone_aware": message("Input should have timezone info"),
    "union_tag_invalid": message(
        "Input tag '{tag}' found using {discriminator} does not match any of the expected tags: "
        "{expected_tags}"
    ),
    "union_tag_not_found": message("Unable to extract tag using discriminator {discriminator}"),
    "url_type": message("URL input should be a string or URL"),
    "url_parsing": message("Input should be a valid URL, {error}"),
    "url_syntax_violation": message("Input violated strict URL syntax rules, {error}"),
    "url_too_long": message("URL should have at most {max_length} character{expected_plural}"),
    "url_scheme": message("URL scheme should be {expected_schemes}"),
    "uuid_type": message("UUID input should be a string, bytes or UUID object"),
    "uuid_parsing": message("Input should be a valid UUID, {error}"),
    "decimal_type": message("Decimal input should be an integer, float, string or Decimal object"),
    "decimal_parsing": message("Input should be a valid decimal"),
}
# pydantic writes a choice as "'a', 'b' or 'c'": the last " or " is a word to translate
CHOICE_TYPES = frozenset({"enum", "literal_error", "url_scheme"})
_OR = " or "


def _choices(expected: str) -> Text:
    head, sep, last = expected.rpartition(_OR)
    return message("{choices} or {last}", choices=head, last=last) if sep else expected


def _parameter(value: Any) -> Text:
    if isinstance(value, BaseException) and value.args and isinstance(value.args[0], Message):
        return value.args[0]  # raised by our own validators with a Message: translated too
    return str(value)


def validation_message(error: Mapping[str, Any]) -> Text:
    """The message of one pydantic error, to translate: by its type and ctx, or its English."""
    kind, context = error.get("type"), error.get("ctx") or {}
    template = TEMPLATES.get(kind) if isinstance(kind, str) else None
    if template is None:
        return str(error.get("msg", "invalid"))
    params: dict[str, Any] = {name: _parameter(value) for name, value in context.items()}
    if "{expected_plural}" in template.msgid and "expected_plural" not in params:
        # pydantic fills it when it writes its English; its ctx leaves it out
        count = context.get("max_length", context.get("min_length"))
        params["expected_plural"] = "" if count == 1 else "s"
    if kind in CHOICE_TYPES:
        key = "expected_schemes" if kind == "url_scheme" else "expected"
        if isinstance(params.get(key), str):
            params[key] = _choices(params[key])
    try:
        Message(template.msgid, params).translate("en")  # every placeholder has its value
    except (KeyError, IndexError, ValueError):
        return str(error.get("msg", "invalid"))
    return Message(template.msgid, params)
