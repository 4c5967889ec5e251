"""The profile as a form: every field asked once, labelled in three languages, read back into
the values the profile takes; and conditions in plain words."""

import pytest

from service.core.i18n import LANGUAGES
from service.policy.profile import Profile
from service.policy.profile_form import (
    LEFT_OUT,
    NONE_OF_THESE,
    choices,
    field_kind,
    field_label,
    form_fields,
    profile_form,
    profile_input,
)
from service.policy.profile_words import condition_words, value_words
from service.policy.vocabulary import vocabularies


def test_the_form_asks_every_profile_field_once_but_bank_consents() -> None:
    asked = form_fields()
    assert len(asked) == len(set(asked))
    assert set(asked) == set(Profile.model_fields) - LEFT_OUT


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_field_has_a_label_of_its_own_in_each_language(language: str) -> None:
    labels = [field_label(name, language) for name in form_fields()]  # type: ignore[arg-type]
    assert len(set(labels)) == len(labels)
    assert not set(labels) & set(form_fields())  # none falls back to the field's own name


def test_each_field_is_asked_for_as_its_type_says() -> None:
    assert field_kind("county") == field_kind("tier") == "choice"
    assert field_kind("has_bank_loan") == field_kind("needs_land") == "yes_no"
    assert field_kind("tier_valid_until") == "date"
    assert field_kind("employees") == field_kind("profit_cny") == "number"
    assert field_kind("industry_code") == field_kind("uscc") == "text"


def test_choices_come_from_the_vocabularies_and_null_is_none_of_these() -> None:
    vocab = vocabularies()
    counties = dict(choices("county", vocab, "zh-Hans"))
    assert counties["440781"] == "台山市" and len(counties) == len(vocab.counties)
    assert dict(choices("tier", vocab, "en"))["little_giant"] == 'national "little giant"'
    assert dict(choices("cluster", vocab, "zh-Hans"))[NONE_OF_THESE] == "均不属于"
    assert NONE_OF_THESE not in dict(choices("tier", vocab, "zh-Hans"))


def test_the_form_is_grouped_with_county_first_and_required() -> None:
    groups = profile_form(vocabularies(), "zh-Hans")
    assert [g.title for g in groups][:3] == ["基本信息", "梯度认定", "融资与上市"]
    first = groups[0].fields[0]
    assert first.name == "county" and first.required and first.label == "所在县（市、区）"
    assert sum(len(g.fields) for g in groups) == len(form_fields())


def test_the_forms_texts_are_read_as_the_profile_takes_them() -> None:
    values = profile_input(
        {
            "county": " 440781 ",
            "has_bank_loan": "yes",
            "needs_land": "no",
            "tier": "",
            "employees": "120",
            "profit_cny": "-5000",
            "cluster": NONE_OF_THESE,
            "tier_valid_until": "2026-12-31",
            "trademarks": "2.5",
            "bank_consents": "bank-demo-1",
        }
    )
    assert values == {
        "county": "440781",
        "has_bank_loan": True,
        "needs_land": False,
        "employees": 120,
        "profit_cny": -5000,
        "cluster": None,
        "tier_valid_until": "2026-12-31",
        "trademarks": "2.5",  # for the profile to refuse, naming the field
    }
    assert Profile.model_validate({**values, "trademarks": 2}).facts()["cluster"] is None


def test_a_number_may_be_written_in_groups_of_digits() -> None:
    assert profile_input({"revenue_cny": "60,000,000", "employees": "1，200"}) == {
        "revenue_cny": 60_000_000,
        "employees": 1200,
    }
    assert profile_input({"employees": "1,2"}) == {"employees": "1,2"}


def test_an_answer_that_is_neither_yes_nor_no_is_left_for_the_profile_to_refuse() -> None:
    assert profile_input({"has_bank_loan": "perhaps"}) == {"has_bank_loan": "perhaps"}
    assert len(profile_input({"name": "x" * 10_000})["name"]) == 256


@pytest.mark.parametrize(
    ("field", "operator", "expected", "language", "words"),
    [
        ("tier", "one_of", ["provincial", "little_giant"], "zh-Hans",
         "优质中小企业梯度培育层级属于省级专精特新中小企业、国家级专精特新“小巨人”企业"),
        ("revenue_cny", "less_than", 400_000_000, "zh-Hans", "上年度营业收入（元）少于400,000,000"),
        ("has_bank_loan", "is", True, "zh-Hant", "有銀行貸款：是"),
        ("needs_land", "is_not", True, "en", "Needs land or factory space: no"),
        ("employees", "at_least", 10, "en", "Employees (persons) is at least 10"),
        ("county", "is", "440781", "en", "County-level division is Taishan City"),
    ],
)  # fmt: skip
def test_a_condition_reads_as_a_sentence(
    field: str, operator: str, expected: object, language: str, words: str
) -> None:
    assert condition_words(vocabularies(), field, operator, expected, language) == words  # type: ignore[arg-type]


def test_values_read_as_people_name_them() -> None:
    vocab = vocabularies()
    assert value_words(vocab, "listing_stage", "tutoring", "zh-Hans") == "辅导期"
    assert value_words(vocab, "needs_land", False, "en") == "no"
    assert value_words(vocab, "cluster", None, "zh-Hans") == "无"
