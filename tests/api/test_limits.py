"""Limits a hostile or runaway caller meets: rates (429), sizes, strict values, a statement
timeout on PostgreSQL (503) that loses nothing, and a 405 that says what is allowed."""

import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from service.core.migrate import upgrade_database
from service.core.settings import Settings
from service.main import create_app
from service.policy.examples import FULL_PROFILE
from tests.conftest import TEST_SETTINGS, Token, serve
from tests.factories import PROBLEM, firm, put


@pytest.fixture
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Small budgets: 3 profiles matched and 2 bank pages a minute per caller; batches of 3."""
    url = f"sqlite:///{tmp_path_factory.mktemp('limited') / 'db.sqlite'}"
    upgrade_database(url)
    with serve(
        url, rate_limit_match="3/minute", rate_limit_bank_query="2/minute", max_batch_size=3
    ) as client:
        yield client


def _match(client: TestClient, headers: dict[str, str]) -> int:
    status: int = client.post("/v1/match", json=FULL_PROFILE, headers=headers).status_code
    return status


def test_matching_over_the_budget_is_429_with_retry_after(limited: TestClient, auth: Token) -> None:
    platform = auth("match")
    assert [_match(limited, platform) for _ in range(3)] == [200, 200, 200]
    refused = limited.post("/v1/match", json=FULL_PROFILE, headers=platform)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == PROBLEM
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["type"].endswith("/too-many-requests")
    assert refused.json()["detail"].startswith(
        "profiles matched for test-suite are limited to 3 every 60 s"
    )
    batch = limited.post("/v1/match/batch", json={"profiles": [FULL_PROFILE]}, headers=platform)
    assert batch.status_code == 429


def test_a_batch_spends_one_per_profile_and_nothing_when_refused(
    limited: TestClient, auth: Token
) -> None:
    platform = auth("match", subject="batcher")

    def batch(size: int) -> int:
        body = {"profiles": [FULL_PROFILE] * size}
        status: int = limited.post("/v1/match/batch", json=body, headers=platform).status_code
        return status

    assert batch(2) == 200  # 2 of 3 spent
    assert batch(2) == 429  # would be 4: refused whole, nothing spent
    assert _match(limited, platform) == 200  # the third
    assert _match(limited, platform) == 429


def test_each_caller_has_its_own_budget(limited: TestClient, auth: Token) -> None:
    first = auth("match")
    for _ in range(4):
        _match(limited, first)
    other = auth("match", subject="another-platform")
    assert _match(limited, other) == 200


def test_a_request_without_a_valid_token_is_401_and_spends_nothing(
    limited: TestClient, auth: Token
) -> None:
    for _ in range(5):
        assert _match(limited, {"Authorization": "Bearer nonsense"}) == 401
    assert _match(limited, auth("match", subject="fresh-caller")) == 200


def test_the_bank_query_has_its_budget(limited: TestClient, auth: Token) -> None:
    bank = auth("eligibility:read", bank_id="bank-demo-1")
    url = "/v1/measures/loan-interest-subsidy/eligible-enterprises"
    assert [limited.get(url, headers=bank).status_code for _ in range(2)] == [200, 200]
    refused = limited.get(url, headers=bank)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    # matching is counted apart
    assert _match(limited, auth("match", bank_id="bank-demo-1")) == 200


@pytest.mark.parametrize(
    ("budget", "problem"), [("lots per hour", "couldn't parse"), ("500/minute", "one batch")]
)
def test_an_unusable_budget_stops_the_start_naming_the_setting(budget: str, problem: str) -> None:
    with pytest.raises(ValueError, match="POLICY_MATCH_RATE_LIMIT_MATCH") as refused:
        create_app(TEST_SETTINGS.model_copy(update={"rate_limit_match": budget}))
    assert problem in str(refused.value).lower()


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/v1/match?as_of=", "as_of"),
        ("/v1/match?as_of=0", "as_of"),
        ("/v1/match?as_of=2025-02-30", "as_of"),
    ],
)
def test_a_day_must_be_written_as_a_day(
    client: TestClient, auth: Token, url: str, field: str
) -> None:
    answer = client.post(url, json=FULL_PROFILE, headers=auth("match"))
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == field


@pytest.mark.parametrize("value", ["0", "20250601", "2025-6-1", ""])
def test_in_force_on_takes_only_a_day(client: TestClient, value: str) -> None:
    answer = client.get("/v1/measures", params={"in_force_on": value})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "in_force_on"
    assert client.get("/v1/measures", params={"in_force_on": "2025-06-01"}).status_code == 200


def test_a_number_for_a_date_is_refused_and_a_whole_float_is_an_integer(
    client: TestClient, auth: Token
) -> None:
    as_number = client.post(
        "/v1/match", json={"county": "440703", "tier_valid_until": 0}, headers=auth("match")
    )
    assert as_number.status_code == 422
    assert as_number.json()["errors"][0]["field"] == "$.tier_valid_until"
    whole = client.post(
        "/v1/match", json={"county": "440703", "digital_level": 4.0}, headers=auth("match")
    )
    assert whole.status_code == 200
    fraction = client.post(
        "/v1/match", json={"county": "440703", "digital_level": 3.5}, headers=auth("match")
    )
    assert fraction.json()["errors"][0]["field"] == "$.digital_level"


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/v1/measures?kind=" + "k" * 65, "kind"),
        ("/v1/measures?department=" + "d" * 65, "department"),
        ("/v1/measures/" + "m" * 101, "measure_id"),
    ],
)
def test_strings_in_the_query_and_path_are_capped(client: TestClient, url: str, field: str) -> None:
    answer = client.get(url)
    assert answer.status_code == 422
    assert field in answer.json()["errors"][0]["field"]


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/v1/push-events", {"limit": 1001}),
        ("/v1/disclosures", {"limit": 501}),
        ("/v1/measures/loan-interest-subsidy/eligible-enterprises", {"limit": 501}),
        ("/v1/enterprises/91440781MA4W6K2L1C/history", {"limit": 1001}),
    ],
)
def test_pages_and_positions_are_capped(
    client: TestClient, auth: Token, url: str, params: dict[str, int]
) -> None:
    scopes = ("push", "audit:read", "eligibility:read", "enterprises:read")
    answer = client.get(url, params=params, headers=auth(*scopes))
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == next(iter(params))


def test_a_cursor_past_what_a_table_holds_is_400_not_a_database_error(
    registry: TestClient, auth: Token
) -> None:
    from service.core.cursors import cursor_owner
    from tests.api.test_lists import seal

    mine = cursor_owner("test-suite")
    for url, parameter, cursor in (
        ("/v1/push-events?after=", "after", seal(registry, {"e": 2**63}, "/v1/push-events", mine)),
        (
            "/v1/disclosures?cursor=",
            "cursor",
            seal(registry, {"b": 2**31}, "/v1/disclosures", mine),
        ),
    ):
        answer = registry.get(url + cursor, headers=auth("push", "audit:read"))
        assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == parameter
    run = registry.get(f"/v1/catalogue/rematches/{2**31}", headers=auth("catalogue:admin"))
    assert run.status_code == 422


def test_a_batch_over_the_cap_is_refused(client: TestClient, auth: Token) -> None:
    answer = client.post(
        "/v1/match/batch",
        json={"profiles": [{"county": "440703"}] * 1001},
        headers=auth("match"),
    )
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "$.profiles"


def test_a_method_not_served_is_405_listing_every_method_of_the_path(client: TestClient) -> None:
    for path, allowed in (
        ("/v1/enterprises/91440781MA4W6K2L1C", "DELETE, GET, PUT"),
        ("/v1/subscriptions", "GET, POST"),
        ("/v1/match", "POST"),
    ):
        answer = client.patch(path)
        assert answer.status_code == 405
        assert answer.headers["allow"] == allowed
        assert answer.headers["content-type"] == PROBLEM


@pytest.mark.slow
def test_postgresql_cancels_a_statement_that_waits_too_long_and_nothing_is_lost(
    postgresql_database: str, auth: Token
) -> None:
    upgrade_database(postgresql_database)
    with serve(postgresql_database, database_statement_timeout_ms=300) as service:
        body = firm()
        assert put(service, auth, body).status_code == 201
        holder = create_engine(postgresql_database)
        locked, release = threading.Event(), threading.Event()

        def hold_the_row() -> None:
            with holder.begin() as connection:
                connection.execute(
                    text("SELECT 1 FROM enterprise WHERE uscc = :u FOR UPDATE"), {"u": body["uscc"]}
                )
                locked.set()
                release.wait(10)

        thread = threading.Thread(target=hold_the_row)
        thread.start()
        try:
            assert locked.wait(5)
            waited = put(service, auth, {**body, "employees": 999})
            assert waited.status_code == 503, waited.text
            assert waited.headers["content-type"] == PROBLEM
            assert "statement timeout" in waited.json()["detail"]
            assert int(waited.headers["retry-after"]) >= 1
        finally:
            release.set()
            thread.join()
            holder.dispose()
        stored = service.get(f"/v1/enterprises/{body['uscc']}", headers=auth("enterprises:read"))
        assert stored.json()["employees"] == body["employees"]
        assert stored.headers["etag"] == '"1"'
        again = put(service, auth, {**body, "employees": 999})
        assert again.status_code == 200
        assert again.headers["etag"] == '"2"'


@pytest.mark.slow
def test_the_statement_timeout_is_set_on_every_connection(postgresql_database: str) -> None:
    from service.core.database import make_engine

    engine = make_engine(postgresql_database, statement_timeout_ms=1234)
    with engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "1234ms"
    engine.dispose()
    assert Settings(environment="test").database_statement_timeout_ms == 10_000
