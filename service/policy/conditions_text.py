"""A measure's eligibility in plain words: its rule tree as sentences in zh-Hans, zh-Hant or en.

Generated from the tree (service/policy/rules.py), never written by hand per measure: each
profile field has its name (or, for a yes/no field, its two sentences), each operator its
template, and each code its vocabulary name. A test of the tier that admits only recognised
tiers adds that the recognition must be in force, as the matcher reads it (an expired
recognition counts as none). Every word goes through the gettext catalogues.
"""

from datetime import date
from typing import Any

from service.core.i18n import Language, Message, message
from service.policy.catalogue import Measure
from service.policy.files import MeasureFile
from service.policy.rules import AllOf, AnyOf, Comparison, Condition, NotOf, Operator
from service.policy.vocabulary import Vocabularies

# the noun a test of a field is said of ("从业人员须少于1000人")
FIELD_NOUNS: dict[str, Message] = {
    "county": message("the county"),
    "industry_code": message("the industry classification code"),
    "cluster": message("the strategic industry cluster"),
    "sub_industry": message("the segment of the digital pilot"),
    "tier": message("the tier of recognition"),
    "tier_valid_until": message("the last day of the recognition"),
    "employees": message("the number of employees"),
    "revenue_cny": message("last year's operating revenue"),
    "profit_cny": message("last year's total profit"),
    "rd_expense_cny": message("last year's R&D expenditure"),
    "invention_patents": message("the valid invention patents"),
    "trademarks": message("the registered trademarks"),
    "digital_level": message("the digitalisation level"),
    "rd_institution": message("the highest R&D institution"),
    "standards_role": message("the part in drafting standards"),
    "quality_award_level": message("the highest government quality award held"),
    "listing_stage": message("the stage on the way to listing"),
    "migrant_workers": message("the number of migrant workers"),
}
# a yes/no field as two sentences: what must hold when it must be true, and when false
YES_NO: dict[str, tuple[Message, Message]] = {
    "key_little_giant": (
        message("must be a key little giant"),
        message("must not be a key little giant"),
    ),
    "university_partner": (
        message("must cooperate with a university or research institute"),
        message("must not cooperate with a university or research institute"),
    ),
    "fills_tech_gap": (
        message("must fill a domestic technology gap or substitute imports"),
        message("must not fill a domestic technology gap or substitute imports"),
    ),
    "quality_award": (
        message("must hold a government quality award"),
        message("must not hold a government quality award"),
    ),
    "equity_board_listed": (
        message("must be listed on a regional equity market board"),
        message("must not yet be listed on a regional equity market board"),
    ),
    "has_bank_loan": (message("must have a bank loan"), message("must have no bank loan")),
    "zyb_digital_loan": (
        message("must have a government-bank-insurance loan for digital transformation"),
        message("must have no government-bank-insurance loan for digital transformation"),
    ),
    "guaranteed_loan": (
        message("must have a loan backed by a financing guarantee institution"),
        message("must have no loan backed by a financing guarantee institution"),
    ),
    "tech_upgrade_project": (
        message("must have a technical transformation project"),
        message("must have no technical transformation project"),
    ),
    "needs_land": (
        message("must need land or factory space"),
        message("must not need land or factory space"),
    ),
    "imports_exports": (
        message("must import or export"),
        message("must neither import nor export"),
    ),
    "needs_talent": (
        message("must seek high-level talent"),
        message("must not seek high-level talent"),
    ),
}
# the vocabulary list a field's codes come from; the lists are ordered lowest first
CODE_LISTS = {
    "tier": "tiers",
    "county": "counties",
    "cluster": "clusters",
    "sub_industry": "sub_industries",
    "rd_institution": "rd_institutions",
    "standards_role": "standards_roles",
    "listing_stage": "listing_stages",
    "quality_award_level": "quality_award_levels",
}
ORDERED_LISTS = frozenset({"tiers", "rd_institutions", "listing_stages", "quality_award_levels"})
YUAN_FIELDS = frozenset({"revenue_cny", "profit_cny", "rd_expense_cny"})
PEOPLE_FIELDS = frozenset({"employees", "migrant_workers"})

TEMPLATES: dict[Operator, Message] = {
    Operator.IS: message("{field} must be {value}"),
    Operator.IS_NOT: message("{field} must not be {value}"),
    Operator.ONE_OF: message("{field} must be {value}"),
    Operator.NONE_OF: message("{field} must not be {value}"),
    Operator.AT_LEAST: message("{field} must be at least {value}"),
    Operator.AT_MOST: message("{field} must be at most {value}"),
    Operator.MORE_THAN: message("{field} must be more than {value}"),
    Operator.LESS_THAN: message("{field} must be less than {value}"),
    Operator.STARTS_WITH: message("{field} must begin with {value}"),
}
OR_HIGHER = message("{field} must be {value} or higher")
# the tier is said of the firm itself: "须为省级专精特新中小企业及以上"
TIER_TEMPLATES: dict[Operator, Message] = {
    Operator.IS: message("must be recognised as {value}"),
    Operator.ONE_OF: message("must be recognised as {value}"),
    Operator.IS_NOT: message("must not be recognised as {value}"),
    Operator.NONE_OF: message("must not be recognised as {value}"),
}
TIER_OR_HIGHER = message("must be recognised as {value} or higher")
IN_FORCE = message("{condition}, with the recognition in force")
NO_TIER = message("must hold no recognition in force (a lapsed one counts as none)")
EITHER = message("{first}, or {second}")
BOTH = message("{first}, and {second}")
BRACKETS = message("({conditions})")
NOT = message("this must not hold: {condition}")
CHOICE = message("{items} or {last}")
NO_VALUE = message("none")
YUAN = message("{amount} yuan")
YUAN_100M = message("{number} hundred million yuan")
YUAN_10K = message("{number} ten thousand yuan")
PEOPLE = message("{count} people")
PIECES = {
    "invention_patents": message("{count} patents"),
    "trademarks": message("{count} trademarks"),
    "digital_level": message("level {count}"),
}


def conditions_lines(
    subject: MeasureFile | Measure | Condition, vocabularies: Vocabularies, language: Language
) -> list[str]:
    """A measure's (or a condition's) eligibility as sentences, one per condition that must
    hold: the members of a top-level `all`, else the one condition."""
    tree = _tree(subject)
    members = tree.all if isinstance(tree, AllOf) else [tree]
    lines = [_words(m, vocabularies, language, inside=None) for m in members]
    return [line[:1].upper() + line[1:] for line in lines] if language == "en" else lines


def conditions_text(
    subject: MeasureFile | Measure | Condition, vocabularies: Vocabularies, language: Language
) -> str:
    """A measure's (or a condition's) eligibility as one text in `language`: its lines joined,
    "须为…；须有…。"."""
    lines = conditions_lines(subject, vocabularies, language)
    if language == "en":
        return ". ".join(lines) + "."
    return "；".join(lines) + "。"


def _say(template: Message, language: Language, **params: Any) -> str:
    """`template` with `params` in `language`."""
    return Message(template.msgid, params).translate(language)


def _tree(subject: MeasureFile | Measure | Condition) -> Condition:
    if isinstance(subject, Measure):
        return subject.spec.eligibility
    if isinstance(subject, MeasureFile):
        return subject.eligibility
    return subject


def _words(node: Condition, vocab: Vocabularies, language: Language, inside: type | None) -> str:
    """`node` in words; `inside` is the kind of group it is a member of (None: a line)."""
    if isinstance(node, Comparison):
        return comparison_words(node, vocab, language)
    if isinstance(node, NotOf):
        inner = _words(node.not_, vocab, language, inside=NotOf)
        return _say(NOT, language, condition=inner)
    kind, members, joiner = (
        (AllOf, node.all, BOTH) if isinstance(node, AllOf) else (AnyOf, node.any, EITHER)
    )
    parts = [_words(m, vocab, language, inside=kind) for m in members]
    text = parts[0]
    for part in parts[1:]:
        text = _say(joiner, language, first=text, second=part)
    if len(parts) > 1 and inside is not None and inside is not kind:
        text = _say(BRACKETS, language, conditions=text)
    return text


def comparison_words(test: Comparison, vocab: Vocabularies, language: Language) -> str:
    """One test as a sentence: "从业人员须少于1000人"."""
    if test.field in YES_NO and isinstance(test.value, bool):
        wanted = test.value if test.operator is Operator.IS else not test.value
        if test.operator in (Operator.IS, Operator.IS_NOT):
            yes, no = YES_NO[test.field]
            return (yes if wanted else no).translate(language)
    values = list(test.value) if isinstance(test.value, tuple) else [test.value]
    if test.field == "tier" and test.operator is Operator.IS and test.value == "none":
        return NO_TIER.translate(language)
    field = FIELD_NOUNS.get(test.field)
    noun = field.translate(language) if field else test.field
    tier = test.field == "tier" and test.operator in TIER_TEMPLATES
    template = TIER_TEMPLATES[test.operator] if tier else TEMPLATES[test.operator]
    shown = values
    lowest = _or_higher(test, vocab)
    if lowest is not None:
        template, shown = (TIER_OR_HIGHER if tier else OR_HIGHER), [lowest]
    text = _say(
        template,
        language,
        field=noun,
        value=_choice([_value(test.field, v, vocab, language) for v in shown], language),
    )
    if tier and test.operator in (Operator.IS, Operator.ONE_OF) and "none" not in values:
        text = _say(IN_FORCE, language, condition=text)
    return text


def _or_higher(test: Comparison, vocab: Vocabularies) -> Any:
    """The lowest code of a `one_of` that admits every code from it up an ordered list."""
    list_name = CODE_LISTS.get(test.field)
    if test.operator is not Operator.ONE_OF or list_name not in ORDERED_LISTS:
        return None
    codes = vocab.codes(list_name)
    values = list(test.value)
    if len(values) < 2 or set(values) != set(codes[len(codes) - len(values) :]):
        return None
    return codes[len(codes) - len(values)]


def _choice(items: list[str], language: Language) -> str:
    if len(items) == 1:
        return items[0]
    separator = "、" if language != "en" else ", "
    return _say(CHOICE, language, items=separator.join(items[:-1]), last=items[-1])


def _value(field: str, value: Any, vocab: Vocabularies, language: Language) -> str:
    """A value as people name it: the vocabulary's name, an amount, a count or a day."""
    if value is None:
        return NO_VALUE.translate(language)
    if field in CODE_LISTS:
        for term in vocab.terms(CODE_LISTS[field]):
            if term.code == value:
                return term.name(language)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number(field, value, language)
    return str(value)


def _number(field: str, value: int | float, language: Language) -> str:
    count = f"{value:,}" if language == "en" else f"{value:g}"
    if field in YUAN_FIELDS:
        if language != "en" and value and value % 10**6 == 0 and abs(value) >= 10**8:
            return _say(YUAN_100M, language, number=f"{value / 10**8:g}")
        if language != "en" and value and value % 10**2 == 0 and abs(value) >= 10**4:
            return _say(YUAN_10K, language, number=f"{value / 10**4:g}")
        return _say(YUAN, language, amount=count)
    if field in PEOPLE_FIELDS:
        return _say(PEOPLE, language, count=count)
    if field in PIECES:
        return _say(PIECES[field], language, count=count)
    return count
