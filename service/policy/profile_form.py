"""The enterprise profile as a form people fill in: its fields in groups, each with a label in
the three languages, its kind (a choice, yes/no, a day, a number, a text) and its choices from
the vocabularies; and the form's texts read back into a profile's values.

A form sends text only, and leaves a field empty when its answer is not known: an empty field
is left out of the profile (unknown, as the contract has it), so that the match can say what
it would need. Anything else is passed on as written for the profile to accept or refuse:
"yes"/"no" become true/false, whole numbers become integers (60,000,000 as well), `null` on a
list that allows it means "none of these"; a text that is none of these reaches the profile
as it came and is refused there, naming the field.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from typing import Any, Literal

from service.core.i18n import Language, Message, message
from service.policy.profile import NULLABLE_FIELDS, field_specs
from service.policy.vocabulary import Vocabularies, vocabularies

Kind = Literal["choice", "yes_no", "date", "number", "text"]
YES, NO = "yes", "no"
NONE_OF_THESE = "null"  # a nullable list's "none of these" (cluster, sub_industry)
WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,19}")
DIGIT_GROUPS = re.compile(r"(?<=[0-9])[,，_ ](?=[0-9]{3})")  # 60,000,000 as people write it
MAX_TEXT = 256  # longer than any field takes: refused as it is, not read further

# The profile's code lists, by field (the vocabularies' list names).
CODE_LISTS = {
    "county": "counties",
    "cluster": "clusters",
    "sub_industry": "sub_industries",
    "tier": "tiers",
    "rd_institution": "rd_institutions",
    "standards_role": "standards_roles",
    "listing_stage": "listing_stages",
    "quality_award_level": "quality_award_levels",
}

# Each field's name for people; the form's groups follow.
LABELS: dict[str, Message] = {
    "uscc": message("Unified social credit code"),
    "name": message("Enterprise name"),
    "county": message("County-level division"),
    "industry_code": message("Industry code (GB/T 4754-2017)"),
    "cluster": message("Strategic industry cluster"),
    "sub_industry": message("Segment of the digital-transformation pilot"),
    "employees": message("Employees (persons)"),
    "revenue_cny": message("Last year's operating revenue (yuan)"),
    "profit_cny": message("Last year's total profit (yuan)"),
    "tier": message("Tier of recognition"),
    "tier_valid_until": message("Recognition valid until"),
    "key_little_giant": message("Key 'little giant' enterprise"),
    "has_bank_loan": message("Has a bank loan"),
    "zyb_digital_loan": message("Has a government-bank-insurance digital transformation loan"),
    "guaranteed_loan": message("Has a loan guaranteed by a financing guarantee institution"),
    "listing_stage": message("Stage on the way to listing"),
    "equity_board_listed": message("Listed on a regional equity market"),
    "rd_expense_cny": message("Last year's R&D expenditure (yuan)"),
    "invention_patents": message("Valid invention patents"),
    "rd_institution": message("Highest level of R&D institution"),
    "university_partner": message("Cooperates with a university or research institute"),
    "fills_tech_gap": message("Fills a domestic technology gap or substitutes imports"),
    "tech_upgrade_project": message("Has a technical transformation project"),
    "digital_level": message("Digitalisation level (0-4, 0: not assessed)"),
    "trademarks": message("Registered trademarks"),
    "standards_role": message("Part in drafting standards"),
    "quality_award": message("Holds a government quality award"),
    "quality_award_level": message("Highest government quality award held"),
    "needs_land": message("Needs land or factory space"),
    "imports_exports": message("Imports or exports"),
    "needs_talent": message("Needs to attract talent"),
    "migrant_workers": message("Migrant workers employed (persons)"),
}

GROUPS: tuple[tuple[Message, tuple[str, ...]], ...] = (
    (
        message("Basic information"),
        (
            "county",
            "name",
            "uscc",
            "industry_code",
            "cluster",
            "sub_industry",
            "employees",
            "revenue_cny",
            "profit_cny",
        ),
    ),
    (message("Tier recognition"), ("tier", "tier_valid_until", "key_little_giant")),
    (
        message("Finance and listing"),
        (
            "has_bank_loan",
            "zyb_digital_loan",
            "guaranteed_loan",
            "listing_stage",
            "equity_board_listed",
        ),
    ),
    (
        message("Innovation"),
        (
            "rd_expense_cny",
            "invention_patents",
            "rd_institution",
            "university_partner",
            "fills_tech_gap",
            "tech_upgrade_project",
            "digital_level",
        ),
    ),
    (
        message("Quality, standards and brands"),
        ("standards_role", "quality_award", "quality_award_level", "trademarks"),
    ),
    (message("Land and trade"), ("needs_land", "imports_exports")),
    (message("Talent"), ("needs_talent", "migrant_workers")),
)
# Consent to banks decides nothing a match answers, and the calculator stores nothing.
LEFT_OUT = frozenset({"bank_consents"})


@dataclass(frozen=True, slots=True)
class FormField:
    """One field of the form: the profile field it fills, its label and kind, its choices."""

    name: str
    label: str
    kind: Kind
    choices: tuple[tuple[str, str], ...] = ()  # (value sent, what people read)
    required: bool = False


@dataclass(frozen=True, slots=True)
class FormGroup:
    """A titled group of the form's fields."""

    title: str
    fields: tuple[FormField, ...]


_BY_TYPE: dict[type, Kind] = {bool: "yes_no", date: "date", int: "number"}


@cache
def field_kinds() -> dict[str, Kind]:
    """How each profile field is asked for, from the type the profile gives it (once)."""
    kinds: dict[str, Kind] = {}
    for name, spec in field_specs(vocabularies()).items():
        kinds[name] = "choice" if name in CODE_LISTS else _BY_TYPE.get(spec.type, "text")
    return kinds


def field_kind(name: str) -> Kind:
    """How a profile field is asked for (identity fields are texts)."""
    return field_kinds().get(name, "text")


def field_label(name: str, language: Language) -> str:
    """A profile field's name for people, in `language` (the field's own name if unlabelled)."""
    label = LABELS.get(name)
    return label.translate(language) if label else name


def choices(name: str, vocab: Vocabularies, language: Language) -> tuple[tuple[str, str], ...]:
    """The choices of a coded field, named in `language`; "none of these" where it may be null."""
    terms = tuple((t.code, t.name(language)) for t in vocab.terms(CODE_LISTS[name]))
    if name in NULLABLE_FIELDS:
        terms += ((NONE_OF_THESE, message("None of these").translate(language)),)
    return terms


@lru_cache(maxsize=16)
def profile_form(vocab: Vocabularies, language: Language) -> tuple[FormGroup, ...]:
    """The whole form, in groups, in `language` (made once per vocabularies and language)."""
    groups = []
    for title, names in GROUPS:
        fields = []
        for name in names:
            kind = field_kind(name)
            fields.append(
                FormField(
                    name,
                    field_label(name, language),
                    kind,
                    choices(name, vocab, language) if kind == "choice" else (),
                    required=name == "county",
                )
            )
        groups.append(FormGroup(title.translate(language), tuple(fields)))
    return tuple(groups)


def form_fields() -> tuple[str, ...]:
    """Every profile field the form asks for, in its order."""
    return tuple(name for _, names in GROUPS for name in names)


def profile_input(form: Mapping[str, str]) -> dict[str, Any]:
    """The form's texts as a profile's values: empty fields left out, the rest read by kind."""
    values: dict[str, Any] = {}
    for name in form_fields():
        text = form.get(name, "").strip()
        if not text:
            continue
        if len(text) > MAX_TEXT:
            values[name] = text[:MAX_TEXT]  # refused by the profile's limits all the same
            continue
        kind = field_kind(name)
        if kind == "yes_no" and text in (YES, NO):
            values[name] = text == YES
        elif kind == "number" and WHOLE_NUMBER.fullmatch(DIGIT_GROUPS.sub("", text)):
            values[name] = int(DIGIT_GROUPS.sub("", text))
        elif kind == "choice" and text == NONE_OF_THESE and name in NULLABLE_FIELDS:
            values[name] = None
        else:
            values[name] = text
    return values
