"""The test cases written beside the measures, run against the catalogue."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.matching.match import match
from service.policy.catalogue import Catalogue, CatalogueError, load_catalogue
from service.policy.files import DEFAULT_CASE_COUNTY, Case
from service.policy.profile import Profile


@dataclass(frozen=True, slots=True)
class CaseFailure:
    """A case whose outcome differs from what its file expects."""

    file: str
    case: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: case {self.case!r}: {self.message}"


def case_decision(catalogue: Catalogue, measure_id: str, case: Case) -> tuple[str, Any]:
    """What matching the case's profile on its day decides for the measure: the status
    (matched, near_miss, undetermined or not_matched) and the decision (None: not matched)."""
    profile = Profile.model_validate({"county": DEFAULT_CASE_COUNTY, **case.profile})
    result = match(catalogue=catalogue, facts=profile.facts(), as_of=case.as_of)
    found = {
        d.measure.measure_id: d
        for d in (*result.matched, *result.near_misses, *result.undetermined)
    }
    decision = found.get(measure_id)
    return (decision.status if decision else "not_matched"), decision


def run_case(catalogue: Catalogue, measure_id: str, case: Case) -> str | None:
    """Run one case; a message saying what differs, or None when it passes."""
    status, decision = case_decision(catalogue, measure_id, case)
    if status != case.expect:
        detail = ""
        if decision and decision.unmet:
            detail = f" (unmet: {', '.join(r.comparison.field for r in decision.unmet)})"
        if decision and decision.missing_fields:
            detail = f" (missing: {', '.join(decision.missing_fields)})"
        return f"expected {case.expect}, got {status}{detail}"
    if case.unmet is not None and decision is not None:
        unmet = sorted({r.comparison.field for r in decision.unmet})
        if unmet != sorted(set(case.unmet)):
            return f"expected unmet {sorted(case.unmet)}, got {unmet}"
    if (
        case.missing is not None
        and decision is not None
        and sorted(decision.missing_fields) != sorted(case.missing)
    ):
        return f"expected missing {sorted(case.missing)}, got {sorted(decision.missing_fields)}"
    return None


def run_cases(catalogue: Catalogue) -> list[CaseFailure]:
    """Run every case of every measure; the failures, each naming file and case."""
    failures = []
    for measure in catalogue.measures:
        for case in measure.spec.cases:
            message = run_case(catalogue, measure.measure_id, case)
            if message:
                failures.append(CaseFailure(measure.source_file, case.name, message))
    return failures


def load_checked_catalogue(policies_dir: Path) -> Catalogue:
    """Load a catalogue and refuse it unless every one of its cases passes."""
    catalogue = load_catalogue(policies_dir)
    failures = run_cases(catalogue)
    if failures:
        raise CatalogueError([str(f) for f in failures])
    return catalogue
