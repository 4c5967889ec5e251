"""A measure's count of stored firms: counted in SQL as match() decides, kept while the registry
is unchanged, counted again when a firm is stored or deleted, or when the kept count is old."""

from datetime import date

from sqlalchemy import Engine, update

from service.core.database import write_transaction
from service.core.tables import ENTERPRISE
from service.policy.profile import Profile
from service.registry.measure_count import MatchCounts, count_matching, registry_marker
from service.registry.store import delete_enterprise
from tests.factories import new_uscc, real_catalogue, store_directly

CATALOGUE = real_catalogue()
GIANTS = CATALOGUE.by_id["little-giant-funding"]
DAY = date(2025, 6, 1)


def _giant(**changes: object) -> Profile:
    facts = {"uscc": new_uscc(), "county": "440703", "tier": "little_giant"}
    return Profile.model_validate({**facts, "tier_valid_until": "2026-06-30", **changes})


def _count(engine: Engine, counts: MatchCounts) -> int:
    with engine.connect() as connection:
        return counts.count(connection, CATALOGUE, GIANTS, DAY)


def test_the_count_is_what_match_decides_for_each_stored_firm(engine: Engine) -> None:
    with engine.connect() as connection:
        before = count_matching(connection, CATALOGUE, GIANTS, DAY)
    store_directly(
        engine,
        [
            _giant(),
            _giant(),
            _giant(tier_valid_until="2025-05-31"),  # expired the day before: no longer counts
            _giant(tier="provincial"),
            Profile.model_validate({"uscc": new_uscc(), "county": "440704"}),  # tier unknown
        ],
    )
    with engine.connect() as connection:
        assert count_matching(connection, CATALOGUE, GIANTS, DAY) == before + 2
        # out of force: nothing matches
        assert count_matching(connection, CATALOGUE, GIANTS, date(2027, 6, 1)) == 0


def test_a_kept_count_is_counted_again_when_a_firm_is_stored_or_deleted(engine: Engine) -> None:
    counts = MatchCounts()
    first = _count(engine, counts)
    giant = _giant()
    store_directly(engine, [giant])
    assert _count(engine, counts) == first + 1
    with write_transaction(engine) as connection:
        delete_enterprise(connection, CATALOGUE, giant.uscc or "", changed_by="test")
    assert _count(engine, counts) == first


def test_a_change_behind_the_marker_is_seen_once_the_kept_count_is_old(engine: Engine) -> None:
    kept, fresh = MatchCounts(), MatchCounts(max_age=0.0)
    first = _count(engine, kept)
    assert _count(engine, fresh) == first
    with engine.connect() as connection:
        marker = registry_marker(connection)
    giant = _giant()
    store_directly(engine, [giant])
    with write_transaction(engine) as connection:
        connection.execute(
            update(ENTERPRISE).where(ENTERPRISE.c.uscc == giant.uscc).values(updated_at=marker)
        )
    assert _count(engine, kept) == first  # the marker did not move: kept for up to MAX_AGE
    assert _count(engine, fresh) == first + 1  # too old: counted again
