"""schemathesis against the OpenAPI document, on SQLite and PostgreSQL, with a token per scope.

Every operation is called with examples drawn from its documented schema (the document's own
examples first, then generated ones, valid and invalid), bounded by MAX_EXAMPLES. Each answer
must not be a 5xx, must have a status the document declares for the operation, and must match
the declared schema and media type; schema-valid requests must not be refused with a 4xx the
document gives no reason for, and schema-violating ones must be refused.

Five things a JSON schema cannot say are supplied here for the valid (positive) cases: the
check digit of a credit code (the schema gives its length and charset); that a profile's
`quality_award` agrees with its `quality_award_level`; that a stored profile's
`uscc` is the path's; that a cursor is valid
only when the service gave it out (generated cursors are dropped; the unit tests forge them);
that a `department` or `clause` filter names one of the catalogue's (read when the service starts,
after the document is made: generated ones are dropped; tests/api/test_lists.py tries them);
and whether a subscription's URL may be pushed to (where it points; the push tests try those).
"""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import Case, HookContext
from schemathesis.config import SchemathesisConfig

from service.main import create_app
from service.policy.examples import FULL_PROFILE
from service.policy.uscc import CHARSET, check_character
from tests.conftest import TEST_SETTINGS, Token, serve

pytestmark = pytest.mark.slow  # schemathesis calls every operation many times

MAX_EXAMPLES = 25
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            # 412: a conditional write over another version; 403: a bank outside its remit;
            # 304: a conditional read (If-None-Match) naming the current ETag
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "304", "401", "403", "404", "409", "412", "429"]
            }
        },
        "operations": [
            {
                # a batch answers 200 with a bad profile reported in its place (the contract)
                "include-path": "/v1/match/batch",
                "checks": {"negative_data_rejection": {"enabled": False}},
            }
        ],
    }
)
# The document alone, from an application that is never started: the calls go to `fuzzed`.
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(TEST_SETTINGS), config=CONFIG)
CURSORS = ("cursor", "after")
CATALOGUE_CODES = ("department", "clause")
RECEIVER = "https://platform.jiangmen.gov.cn/hooks/policy-match"


def _with_check_digit(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 18 and all(c in CHARSET for c in value):
        return value[:17] + check_character(value[:17])
    return value


def _valid_codes(document: Any) -> Any:
    """Every credit code in a generated document given its right check digit."""
    if isinstance(document, dict):
        return {
            k: _with_check_digit(v) if k == "uscc" else _valid_codes(v) for k, v in document.items()
        }
    if isinstance(document, list):
        return [_valid_codes(v) for v in document]
    return document


def _agreeing_awards(document: Any) -> Any:
    """Every profile's `quality_award` made to agree with its `quality_award_level`."""
    if isinstance(document, list):
        return [_agreeing_awards(v) for v in document]
    if not isinstance(document, dict):
        return document
    fixed = {k: _agreeing_awards(v) for k, v in document.items()}
    level = fixed.get("quality_award_level")
    if isinstance(level, str) and isinstance(fixed.get("quality_award"), bool):
        fixed["quality_award"] = level != "none"
    return fixed


@schema.hook("map_case")
def _what_a_schema_cannot_say(context: HookContext, case: Case[Any]) -> Case[Any]:
    if case.meta is not None and case.meta.generation.mode.is_negative:
        return case
    if case.path_parameters and "uscc" in case.path_parameters:
        case.path_parameters["uscc"] = _with_check_digit(case.path_parameters["uscc"])
    if case.query:
        dropped = (*CURSORS, *CATALOGUE_CODES)
        case.query = {k: v for k, v in _valid_codes(case.query).items() if k not in dropped}
    if isinstance(case.body, dict | list):
        case.body = _agreeing_awards(_valid_codes(case.body))
    if isinstance(case.body, dict) and case.body.get("uscc") and case.path_parameters:
        case.body["uscc"] = case.path_parameters.get("uscc")  # one firm: the path names it
    if isinstance(case.body, dict) and "url" in case.body:
        case.body["url"] = RECEIVER  # whether a URL is allowed depends on where it points
    return case


@pytest.fixture(scope="module")
def fuzzed(database: str, auth: Token) -> Iterator[TestClient]:
    """The service on each backend, holding the examples' firm and a subscription."""
    with serve(database) as client:
        stored = client.put(
            f"/v1/enterprises/{FULL_PROFILE['uscc']}",
            json=FULL_PROFILE,
            headers=auth("enterprises:write"),
        )
        assert stored.status_code in (200, 201), stored.text
        yield client


def _scopes(case: Case[Any]) -> list[str]:
    requirements = case.operation.definition.raw.get("security") or []
    return [
        scope for requirement in requirements for scopes in requirement.values() for scope in scopes
    ]


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_its_documented_promises(
    case: Case[Any], fuzzed: TestClient, auth: Token
) -> None:
    """No 5xx; statuses, media types and bodies as documented; valid in, invalid out."""
    scopes = _scopes(case)
    headers = auth(*scopes) if scopes else {}
    case.call_and_validate(headers=headers, app=fuzzed.app)


def test_every_status_the_service_can_answer_is_declared() -> None:
    """401, 403, 404, 409, 413, 422 and 429 appear where the operations can answer them."""
    document = create_app(TEST_SETTINGS).openapi()
    declared: dict[str, set[str]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            statuses = set(operation["responses"])
            declared[f"{method.upper()} {path}"] = statuses
            if operation.get("security"):
                assert {"401", "403"} <= statuses, (method, path)
            if "requestBody" in operation:
                assert "413" in statuses and statuses & {"400", "422"}, (method, path)
            if "{" in path:
                assert "404" in statuses or "422" in statuses, (method, path)
    assert "429" in declared["POST /v1/match"] and "429" in declared["POST /v1/match/batch"]
    assert "429" in declared["GET /v1/measures/{measure_id}/eligible-enterprises"]
    assert "409" in declared["POST /v1/catalogue/reload"]
    assert "409" in declared["POST /v1/push-events/{event_id}/redeliver"]
