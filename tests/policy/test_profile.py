"""The enterprise profile: credit code, county, enums, ranges, unknown fields."""

from typing import Any

import pytest
from pydantic import ValidationError

from service.policy.examples import FULL_PROFILE, synthetic_uscc
from service.policy.profile import Profile
from service.policy.uscc import uscc_problem


def test_published_example_credit_code_is_valid() -> None:
    assert uscc_problem("914403001922038216") is None


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("914403001922038217", "check digit is '7', expected '6'"),
        ("91440300192203821", "must be 18 characters"),
        ("9144030019220382I6", "'I' not in the charset"),
        ("91440300192203821O", "'O' not in the charset"),
    ],
)
def test_bad_credit_codes_say_why(code: str, problem: str) -> None:
    assert problem in (uscc_problem(code) or "")


def test_synthetic_codes_carry_a_correct_check_character() -> None:
    assert uscc_problem(synthetic_uscc("91440781MA4W6K2L1")) is None


def _errors(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        Profile.model_validate(data)
    return {".".join(map(str, e["loc"])): e["msg"] for e in caught.value.errors()}


def test_full_example_profile_is_valid() -> None:
    assert Profile.model_validate(FULL_PROFILE).county == "440781"


def test_only_county_is_required() -> None:
    assert Profile.model_validate({"county": "440703"}).facts() == {"county": "440703"}
    assert "county" in _errors({})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("county", "440700"),  # the city, not a county
        ("county", "440105"),  # Guangzhou
        ("tier", "gold"),
        ("cluster", "steel"),
        ("sub_industry", "textiles"),
        ("rd_institution", "county"),
        ("standards_role", "author"),
        ("listing_stage", "ipo"),
        ("digital_level", 5),
        ("employees", -1),
        ("revenue_cny", 1.5),
        ("has_bank_loan", "yes"),
        ("has_bank_loan", 1),
        ("industry_code", "3857"),
        ("uscc", "914403001922038217"),
        ("tier_valid_until", "31/12/2026"),
        ("bank_consents", "bank-1"),
    ],
)
def test_bad_values_are_refused_naming_the_field(field: str, value: object) -> None:
    assert field in _errors({"county": "440703", field: value})


def test_unknown_fields_are_refused() -> None:
    assert "registered_capital" in _errors({"county": "440703", "registered_capital": 1})


def test_nullable_fields_keep_null_as_a_value() -> None:
    facts = Profile.model_validate(
        {"county": "440703", "cluster": None, "tier_valid_until": None, "employees": None}
    ).facts()
    assert facts == {"county": "440703", "cluster": None, "tier_valid_until": None}


def test_allow_listed_pilot_codes_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    from service.core.settings import get_settings

    pilot = "914403001922038217"
    monkeypatch.setattr(get_settings(), "uscc_allowlist", frozenset({pilot}))
    assert Profile.model_validate({"county": "440703", "uscc": pilot}).uscc == pilot
