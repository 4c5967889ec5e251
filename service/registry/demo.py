"""Synthetic demo enterprises: plausible, clearly marked, never real firms."""

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

from service.policy.examples import synthetic_uscc
from service.policy.profile import Profile
from service.policy.uscc import CHARSET
from service.policy.vocabulary import vocabularies

SYNTHETIC_MARK = "（合成演示数据）"
TIER_WEIGHTS = (
    ("none", 40),
    ("innovative", 25),
    ("municipal", 18),
    ("provincial", 14),
    ("little_giant", 3),
)
_TRADES = (
    "精密五金",
    "不锈钢制品",
    "摩托车配件",
    "纸品包装",
    "电子元件",
    "小家电",
    "智能装备",
    "新材料",
    "生物医药",
    "激光设备",
    "食品",
    "环保科技",
)
INDUSTRY_CODES = (
    "C3311",
    "C3381",
    "C3752",
    "C2231",
    "C3976",
    "C3857",
    "C3499",
    "C2929",
    "C2720",
    "C3562",
    "C1469",
    "C7721",
    "F5174",
    "I6513",
    "D4411",
    "B1019",
)


def synthetic_profile(rng: random.Random, n: int) -> dict[str, Any]:
    """One synthetic profile; the same rng state gives the same firm."""
    vocab = vocabularies()
    county = rng.choice(vocab.codes("counties"))
    tier = rng.choices([t for t, _ in TIER_WEIGHTS], [w for _, w in TIER_WEIGHTS])[0]
    recognised = tier != "none"
    until = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 1400)) if recognised else None
    body = "".join(rng.choice(CHARSET) for _ in range(9))
    employees = rng.choice((8, 15, 35, 60, 120, 250, 480, 900))
    revenue = employees * rng.randrange(250_000, 900_000)
    return {
        "uscc": synthetic_uscc(f"91{county}{body}"),
        "name": f"{SYNTHETIC_MARK}江门示例{rng.choice(_TRADES)}有限公司{n:05d}",
        "county": county,
        "industry_code": rng.choice(INDUSTRY_CODES),
        "cluster": rng.choice((*vocab.codes("clusters"), None)),
        "sub_industry": rng.choice((*vocab.codes("sub_industries"), None, None, None)),
        "tier": tier,
        "key_little_giant": tier == "little_giant" and rng.random() < 0.3,
        "tier_valid_until": until.isoformat() if until else None,
        "employees": employees,
        "revenue_cny": revenue,
        "profit_cny": int(revenue * rng.uniform(-0.05, 0.15)),
        "rd_expense_cny": int(revenue * rng.uniform(0.01, 0.08)),
        "invention_patents": rng.choice((0, 0, 1, 2, 3, 5, 12)),
        "trademarks": rng.choice((0, 1, 1, 2, 4)),
        "digital_level": rng.choice((0, 1, 2, 2, 3, 4)),
        "rd_institution": rng.choice(("none", "none", "municipal", "provincial", "national")),
        "university_partner": rng.random() < 0.35,
        "fills_tech_gap": rng.random() < 0.15,
        "standards_role": rng.choice(("none", "none", "participant", "lead")),
        "quality_award": (award := rng.random()) < 0.1,
        # the same draw gives the level: 6% municipal, 3% provincial, 1% national
        "quality_award_level": (
            "municipal"
            if award < 0.06
            else "provincial"
            if award < 0.09
            else "national"
            if award < 0.1
            else "none"
        ),
        "listing_stage": rng.choice(("none",) * 8 + ("planning", "tutoring", "filed", "listed")),
        "equity_board_listed": rng.random() < 0.08,
        "has_bank_loan": rng.random() < 0.6,
        "zyb_digital_loan": rng.random() < 0.12,
        "guaranteed_loan": rng.random() < 0.2,
        "tech_upgrade_project": rng.random() < 0.3,
        "needs_land": rng.random() < 0.15,
        "imports_exports": rng.random() < 0.4,
        "needs_talent": rng.random() < 0.5,
        "migrant_workers": int(employees * rng.uniform(0, 0.7)),
        "bank_consents": rng.sample(
            ["bank-demo-1", "bank-demo-2", "bank-demo-3"], rng.randrange(0, 3)
        ),
    }


def synthetic_profiles(count: int, seed: int) -> list[Profile]:
    """`count` validated synthetic profiles with distinct credit codes."""
    rng = random.Random(seed)
    profiles: dict[str, Profile] = {}
    while len(profiles) < count:
        profile = Profile.model_validate(synthetic_profile(rng, len(profiles) + 1))
        assert profile.uscc is not None
        profiles.setdefault(profile.uscc, profile)
    return list(profiles.values())


def write_demo_file(path: Path, *, count: int, seed: int) -> int:
    """Write `count` synthetic profiles as JSON Lines, ready for `policy-match import`."""
    with path.open("wb") as out:
        for profile in synthetic_profiles(count, seed):
            out.write(orjson.dumps(profile.model_dump(mode="json", exclude_unset=True)) + b"\n")
    return count
