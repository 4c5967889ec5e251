"""The one measure the preview tests change: brand services opened to innovative SMEs and closed
to municipal ones (its cases brought along, so the folder passes its checks)."""

from pathlib import Path
from typing import Any

from service.policy.examples import synthetic_uscc
from tests.factories import firm
from tests.policy_copies import edit_yaml

CHANGED = "brand-cultivation-services"  # tier one_of [municipal, provincial, little_giant]
WIDENED = ["innovative", "provincial", "little_giant"]


def change_one_measure(policies: Path) -> str:
    """Change CHANGED in a policies folder; its id."""

    def change(data: dict[str, Any]) -> None:
        data["eligibility"]["all"][0]["one_of"] = WIDENED
        cases = [c for c in data["cases"] if c["profile"]["tier"] != "innovative"]
        for case in cases:
            if case["profile"]["tier"] == "municipal":
                case.update(expect="near_miss", unmet=["tier"], why="Closed to municipal SMEs.")
        data["cases"] = cases

    edit_yaml(policies / "measures" / f"{CHANGED}.yaml", change)
    return CHANGED


REGIONS = ("440703", "440704", "440705", "440781", "440783", "440784", "440785")


def firm_of(tier: str, place: int) -> dict[str, Any]:
    """A firm of `tier` whose masked credit code no other firm of the test shares (its region,
    kept by the mask, is the place'th), recognised until 2099."""
    first17 = f"91{REGIONS[place]}MA4W6K2{place}Q"
    return firm(uscc=synthetic_uscc(first17), tier=tier, tier_valid_until="2099-12-31")
