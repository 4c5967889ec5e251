"""The words of docs/fidelity.md: a gate as a sentence in Simplified Chinese, for policy staff."""

from datetime import date
from typing import Any

from service.policy.files import Instrument
from service.policy.rules import Comparison, Operator
from service.policy.vocabulary import Vocabularies

FIELD_NAMES = {
    "county": "所在县（市、区）",
    "industry_code": "国民经济行业代码",
    "cluster": "战略性产业集群",
    "sub_industry": "数字化转型试点细分行业",
    "tier": "梯度培育层级（有效期内）",
    "key_little_giant": "重点“小巨人”企业",
    "tier_valid_until": "认定有效期",
    "employees": "从业人员（人）",
    "revenue_cny": "上年营业收入（元）",
    "profit_cny": "上年利润总额（元）",
    "rd_expense_cny": "上年研发费用（元）",
    "invention_patents": "有效发明专利（件）",
    "trademarks": "注册商标（个）",
    "digital_level": "数字化水平（级）",
    "rd_institution": "最高层级研发机构",
    "university_partner": "与高校、科研院所合作研发",
    "fills_tech_gap": "填补技术空白或替代进口",
    "standards_role": "参与国际、国家、行业标准制修订",
    "quality_award": "已获市级及以上政府质量奖",
    "quality_award_level": "已获政府质量奖的最高层级",
    "listing_stage": "上市进程",
    "equity_board_listed": "已在区域性股权市场专板挂牌",
    "has_bank_loan": "有商业银行贷款",
    "zyb_digital_loan": "有用于数字化转型的“政银保”贷款",
    "guaranteed_loan": "有融资担保贷款",
    "tech_upgrade_project": "有技术改造项目",
    "needs_land": "有用地或厂房需求",
    "imports_exports": "有进出口业务",
    "needs_talent": "有高层次人才引进需求",
    "migrant_workers": "外来务工人员（人）",
}
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
OPERATOR_WORDS = {
    Operator.IS: "为",
    Operator.IS_NOT: "不为",
    Operator.ONE_OF: "属于",
    Operator.NONE_OF: "不属于",
    Operator.AT_LEAST: "不少于",
    Operator.AT_MOST: "不多于",
    Operator.MORE_THAN: "多于",
    Operator.LESS_THAN: "少于",
    Operator.STARTS_WITH: "以下列代码开头：",
}


def value_words(vocab: Vocabularies, field: str, value: Any) -> str:
    """A value as policy staff name it: the vocabulary's name, 是/否, a number or a day."""
    if isinstance(value, tuple | list | frozenset):
        return "、".join(value_words(vocab, field, v) for v in value)
    if value is None:
        return "未填（空值）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return f"{value:,}"
    if isinstance(value, date):
        return value.isoformat()
    if field in CODE_LISTS:
        for term in getattr(vocab, CODE_LISTS[field]):
            if term.code == value:
                return f"{term.zh_hans}（{value}）"
    return str(value)


def gate_words(vocab: Vocabularies, test: Comparison) -> str:
    """One gate as a sentence: field, operator and value, in Simplified Chinese."""
    field = FIELD_NAMES.get(test.field, test.field)
    return f"{field} {OPERATOR_WORDS[test.operator]} {value_words(vocab, test.field, test.value)}"


def instrument_words(instrument: Instrument) -> str:
    """An instrument with its title, number, issuer and date."""
    return (
        f"《{instrument.title.zh_hans}》（{instrument.number}，"
        f"{instrument.issued_by.zh_hans}，{instrument.issued_on.isoformat()}）"
    )
