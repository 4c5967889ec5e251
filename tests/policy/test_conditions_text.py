"""A measure's conditions in plain words, generated from its rule tree in three languages."""

import re
from typing import Any

import pytest

from service.core.i18n import LANGUAGES, Language
from service.policy.conditions_text import (
    FIELD_NOUNS,
    YES_NO,
    conditions_lines,
    conditions_text,
)
from service.policy.profile import field_specs
from service.policy.rules import AllOf, Comparison, Condition, Operator, comparisons_of
from tests.factories import real_catalogue

REAL = real_catalogue()
VOCAB = REAL.vocabularies
CHINESE: tuple[Language, ...] = ("zh-Hans", "zh-Hant")
RAW_WORDS = {
    *field_specs(VOCAB),
    *(o.value for o in Operator),
    "all",
    "any",
    "not",
    "true",
    "false",
    "None",
    "True",
    "False",
}


def _test(**written: Any) -> Comparison:
    return Comparison.model_validate(written)


def _tree(written: dict[str, Any]) -> Condition:
    return AllOf.model_validate({"all": [written]}).all[0]


@pytest.mark.parametrize("language", CHINESE)
def test_no_measure_s_chinese_conditions_leak_a_field_name_an_operator_or_a_code(
    language: Language,
) -> None:
    assert len(REAL.measures) >= 54  # every measure of the catalogue
    codes = {t.code for name in type(VOCAB).model_fields for t in VOCAB.terms(name)} - {"none"}
    for measure in REAL.measures:
        text = conditions_text(measure, VOCAB, language)
        words = set(re.findall(r"[A-Za-z_]{2,}", text))
        assert not words & (RAW_WORDS | codes), (measure.measure_id, text)
        assert not re.search(r"[a-z]", text), (measure.measure_id, text)
        assert re.search(r"[\u4e00-\u9fff]", text), measure.measure_id


def test_every_measure_reads_in_english_with_no_raw_field_or_operator() -> None:
    for measure in REAL.measures:
        text = conditions_text(measure, VOCAB, "en")
        assert "_" not in text and not re.search(r"\b(tier|None|True|False)\b", text), text
        assert not re.search(r"[\u4e00-\u9fff]", text.replace("小巨人", "")), text


def test_every_field_a_condition_may_test_has_words() -> None:
    assert set(field_specs(VOCAB)) == set(FIELD_NOUNS) | set(YES_NO)
    assert not set(FIELD_NOUNS) & set(YES_NO)


def test_a_tier_range_reads_as_or_higher_with_the_recognition_in_force() -> None:
    measure = REAL.by_id["loan-interest-subsidy"]
    lines = conditions_lines(measure, VOCAB, "zh-Hans")
    assert lines[0] == "须为市级专精特新中小企业及以上，且认定在有效期内"
    assert conditions_lines(measure, VOCAB, "zh-Hant")[0] == (
        "須為市級專精特新中小企業及以上，且認定在有效期內"
    )
    assert conditions_lines(measure, VOCAB, "en")[0] == (
        "Must be recognised as municipal specialised SME or higher, with the recognition in force"
    )
    provincial = _test(field="tier", one_of=["provincial", "little_giant"])
    assert conditions_text(provincial, VOCAB, "zh-Hans") == (
        "须为省级专精特新中小企业及以上，且认定在有效期内。"
    )


def test_a_list_that_is_not_a_range_is_named_member_by_member() -> None:
    test = _test(field="tier", one_of=["innovative", "provincial"])
    assert conditions_text(test, VOCAB, "zh-Hans") == (
        "须为创新型中小企业或省级专精特新中小企业，且认定在有效期内。"
    )
    roles = _test(field="standards_role", one_of=["participant", "lead"])
    assert (
        conditions_text(roles, VOCAB, "zh-Hans")
        == "在标准制修订中的角色须为参与制修订或主导制修订。"
    )


def test_no_recognition_says_a_lapsed_one_counts_as_none() -> None:
    text = conditions_text(_test(field="tier", **{"is": "none"}), VOCAB, "zh-Hans")
    assert text == "须无有效期内的梯度培育认定（认定已过期的视为未获认定）。"


def test_yes_no_fields_read_as_their_own_sentences_either_way() -> None:
    assert conditions_text(_test(field="needs_land", **{"is": True}), VOCAB, "zh-Hans") == (
        "须有用地或厂房需求。"
    )
    for written in ({"is": False}, {"is_not": True}):
        test = _test(field="imports_exports", **written)
        assert conditions_text(test, VOCAB, "zh-Hans") == "须无进出口业务。"
        assert conditions_text(test, VOCAB, "en") == "Must neither import nor export."


@pytest.mark.parametrize(
    ("written", "zh_hans"),
    [
        ({"field": "employees", "less_than": 1000}, "从业人员数须少于1000人"),
        ({"field": "employees", "at_least": 20}, "从业人员数须不少于20人"),
        ({"field": "migrant_workers", "more_than": 0}, "外来务工人员数须多于0人"),
        ({"field": "revenue_cny", "less_than": 400_000_000}, "上年度营业收入须少于4亿元"),
        ({"field": "revenue_cny", "at_most": 20_000_000}, "上年度营业收入须不超过2000万元"),
        ({"field": "profit_cny", "more_than": 1234}, "上年度利润总额须多于1234元"),
        ({"field": "invention_patents", "at_least": 2}, "有效发明专利数须不少于2件"),
        ({"field": "digital_level", "at_least": 3}, "数字化水平须不少于3级"),
        ({"field": "industry_code", "starts_with": ["B", "C"]}, "国民经济行业分类代码须以B或C开头"),
        ({"field": "listing_stage", "is_not": "listed"}, "上市进程不得为已上市"),
        (
            {"field": "quality_award_level", "none_of": ["national"]},
            "已获政府质量奖的最高一级不得为中国质量奖",
        ),
        (
            {"field": "rd_institution", "one_of": ["provincial", "national"]},
            "最高一级研发机构须为省级研发机构及以上",
        ),
        ({"field": "county", "is": "440703"}, "所在县（市、区）须为蓬江区"),
        ({"field": "cluster", "is": None}, "所属战略性产业集群须为无"),
    ],
)
def test_each_operator_reads_with_the_field_s_name_and_unit(
    written: dict[str, Any], zh_hans: str
) -> None:
    assert conditions_text(_test(**written), VOCAB, "zh-Hans") == zh_hans + "。"


def test_groups_read_as_either_or_and_brackets_keep_nested_groups_apart() -> None:
    measure = REAL.by_id["tier-innovative-sme-cultivation"]
    assert conditions_lines(measure, VOCAB, "zh-Hans") == [
        "须无有效期内的梯度培育认定（认定已过期的视为未获认定）",
        "从业人员数须少于1000人，或上年度营业收入须少于4亿元",
    ]
    nested = _tree(
        {
            "any": [
                {
                    "all": [
                        {"field": "needs_land", "is": True},
                        {"field": "employees", "at_least": 5},
                    ]
                },
                {"not": {"field": "has_bank_loan", "is": True}},
            ]
        }
    )
    assert conditions_text(nested, VOCAB, "zh-Hans") == (
        "（须有用地或厂房需求，且从业人员数须不少于5人），或不得满足：须有银行贷款。"
    )
    assert conditions_text(nested, VOCAB, "en") == (
        "(must need land or factory space, and the number of employees must be at least 5 people),"
        " or this must not hold: must have a bank loan."
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_text_is_the_lines_joined_one_line_per_member_of_the_top_all(
    language: Language,
) -> None:
    for measure in REAL.measures:
        lines = conditions_lines(measure, VOCAB, language)
        tree = measure.spec.eligibility
        assert len(lines) == (len(tree.all) if isinstance(tree, AllOf) else 1)
        assert all(lines)
        text = conditions_text(measure.spec, VOCAB, language)
        assert all(line in text for line in lines)
        assert comparisons_of(tree)
