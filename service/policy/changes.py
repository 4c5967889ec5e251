"""What changed between two catalogues: the measures added, removed, and changed in any way."""

from service.policy.catalogue import Catalogue


def measure_changes(old: Catalogue, new: Catalogue) -> dict[str, list[str]]:
    """Measures added, removed, and changed in any way between two catalogues."""
    before = {m.measure_id: m.spec for m in old.measures}
    after = {m.measure_id: m.spec for m in new.measures}
    return {
        "measures_added": [m for m in after if m not in before],
        "measures_removed": [m for m in before if m not in after],
        "measures_changed": [m for m in after if m in before and after[m] != before[m]],
    }
