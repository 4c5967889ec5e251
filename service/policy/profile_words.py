"""A condition on a profile field, and a value of one, in plain words in the three languages:
"营业收入（元）少于400,000,000", "有银行贷款：是". The field names are the form's labels
(service/policy/profile_form.py), the codes the vocabularies' names."""

from datetime import date
from typing import Any

from service.core.i18n import Language, Message, message
from service.policy.profile_form import CODE_LISTS, field_label
from service.policy.rules import Operator
from service.policy.vocabulary import Vocabularies

OPERATOR_WORDS: dict[str, Message] = {
    Operator.IS: message("{field} is {value}"),
    Operator.IS_NOT: message("{field} is not {value}"),
    Operator.ONE_OF: message("{field} is one of {value}"),
    Operator.NONE_OF: message("{field} is none of {value}"),
    Operator.AT_LEAST: message("{field} is at least {value}"),
    Operator.AT_MOST: message("{field} is at most {value}"),
    Operator.MORE_THAN: message("{field} is more than {value}"),
    Operator.LESS_THAN: message("{field} is less than {value}"),
    Operator.STARTS_WITH: message("{field} starts with {value}"),
}
LIST_SEPARATOR: dict[Language, str] = {"zh-Hans": "、", "zh-Hant": "、", "en": ", "}


def value_words(vocab: Vocabularies, field: str, value: Any, language: Language) -> str:
    """A value as people name it: the vocabulary's name, yes/no, a number, a day, a list."""
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR[language].join(value_words(vocab, field, v, language) for v in value)
    if value is None:
        return message("none").translate(language)
    if isinstance(value, bool):
        return (message("yes") if value else message("no")).translate(language)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, date):
        return value.isoformat()
    if field in CODE_LISTS:
        for term in vocab.terms(CODE_LISTS[field]):
            if term.code == value:
                return term.name(language)
    return str(value)


def condition_words(
    vocab: Vocabularies, field: str, operator: str, expected: Any, language: Language
) -> str:
    """A condition as a sentence: the field's label, the comparison, the value in words."""
    words = OPERATOR_WORDS.get(operator, message("{field} is {value}"))
    if isinstance(expected, bool) and operator in (Operator.IS, Operator.IS_NOT):
        # "has a bank loan: no" reads better than "has a bank loan is not yes"
        expected = expected if operator == Operator.IS else not expected
        words = message("{field}: {value}")
    return Message(
        words.msgid,
        {
            "field": field_label(field, language),
            "value": value_words(vocab, field, expected, language),
        },
    ).translate(language)
