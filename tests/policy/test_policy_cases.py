"""Every test case written beside the measures in policies/, run as a pytest case."""

from pathlib import Path

import pytest

from service.matching.cases import run_case
from tests.factories import real_catalogue

CATALOGUE = real_catalogue()
CASES = [
    pytest.param(measure.measure_id, case, id=f"{Path(measure.source_file).stem}: {case.name}")
    for measure in CATALOGUE.measures
    for case in measure.spec.cases
]


@pytest.mark.parametrize(("measure_id", "case"), CASES)
def test_policy_case(measure_id: str, case: object) -> None:
    assert run_case(CATALOGUE, measure_id, case) is None  # type: ignore[arg-type]


def test_every_measure_has_an_eligible_and_an_ineligible_case() -> None:
    for measure in CATALOGUE.measures:
        expects = {case.expect for case in measure.spec.cases}
        assert "matched" in expects, measure.measure_id
        assert expects & {"near_miss", "not_matched"}, measure.measure_id
