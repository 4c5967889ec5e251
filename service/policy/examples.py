"""Example profiles for the OpenAPI document: synthetic firms, valid credit codes."""

from typing import Any

from service.policy.uscc import check_character


def synthetic_uscc(first17: str) -> str:
    """A credit code with a correct check character (for synthetic data only)."""
    return first17 + check_character(first17)


FULL_PROFILE: dict[str, Any] = {
    "uscc": synthetic_uscc("91440781MA4W6K2L1"),
    "name": "（合成示例）台山市示例精密五金有限公司",
    "county": "440781",
    "industry_code": "C3311",
    "cluster": "high_end_equipment",
    "sub_industry": "hardware_stainless",
    "tier": "provincial",
    "key_little_giant": False,
    "tier_valid_until": "2026-12-31",
    "employees": 180,
    "revenue_cny": 86_000_000,
    "profit_cny": 7_400_000,
    "rd_expense_cny": 3_900_000,
    "invention_patents": 1,
    "trademarks": 3,
    "digital_level": 2,
    "rd_institution": "municipal",
    "university_partner": True,
    "fills_tech_gap": False,
    "standards_role": "participant",
    "quality_award": False,
    "quality_award_level": "none",
    "listing_stage": "planning",
    "equity_board_listed": False,
    "has_bank_loan": True,
    "zyb_digital_loan": True,
    "guaranteed_loan": False,
    "tech_upgrade_project": True,
    "needs_land": True,
    "imports_exports": True,
    "needs_talent": True,
    "migrant_workers": 95,
    "bank_consents": ["bank-demo-1"],
}
EXAMPLE_USCC: str = FULL_PROFILE["uscc"]

MATCH_EXAMPLES: dict[str, Any] = {
    "provincial firm, full profile": {
        "summary": "A provincial 专精特新 hardware maker in Taishan (synthetic)",
        "value": FULL_PROFILE,
    },
    "county only": {
        "summary": "Only the county: most measures come back undetermined, with what is missing",
        "value": {"county": "440703"},
    },
    "expired recognition": {
        "summary": "A municipal recognition that ended in 2025 counts as no tier",
        "value": {
            "county": "440705",
            "tier": "municipal",
            "tier_valid_until": "2025-03-31",
            "has_bank_loan": True,
            "needs_land": True,
        },
    },
}


def batch_example() -> dict[str, Any]:
    """A batch of two profiles, the second with a bad credit code."""
    bad = {**FULL_PROFILE, "uscc": FULL_PROFILE["uscc"][:-1] + "0"}
    if bad["uscc"] == FULL_PROFILE["uscc"]:
        bad["uscc"] = FULL_PROFILE["uscc"][:-1] + "1"
    return {"profiles": [FULL_PROFILE, bad]}
