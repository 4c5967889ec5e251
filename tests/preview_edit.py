"""The one measure the preview tests change: brand services opened to innovative SMEs and closed
to municipal ones (its cases brought along, so the folder passes its checks)."""

from pathlib import Path
from typing import Any

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
