"""The impact preview of a changed catalogue, on SQLite and PostgreSQL: the firms it moves are
those matching says it moves, and nothing is written."""

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, insert, select
from sqlmodel import SQLModel

from service.core.database import write_transaction
from service.core.tables import SUBSCRIPTION, utcnow
from service.matching.cases import load_checked_catalogue
from service.policy.catalogue import Catalogue, load_catalogue
from service.policy.profile import Profile
from service.registry.preview import preview_impact
from service.registry.publication import publish
from service.registry.store import matched_ids, store_profile
from tests.factories import firm, real_catalogue
from tests.policy_copies import copy_policies, edit_yaml
from tests.preview_edit import CHANGED, change_one_measure

REAL = real_catalogue()
DAY = date(2025, 6, 1)
TIERS = ["provincial", "municipal", "innovative", "none", "little_giant"]


def changed_catalogue(folder: Path) -> Catalogue:
    """The real catalogue with CHANGED open to innovative SMEs and closed to municipal ones."""
    policies = copy_policies(folder)
    change_one_measure(policies)
    return load_checked_catalogue(policies)


def row_counts(connection: Connection) -> dict[str, int]:
    """How many rows every table holds."""
    return {
        name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
        for name, table in SQLModel.metadata.tables.items()
    }


@pytest.fixture(scope="module")
def stored(engine: Engine) -> list[Profile]:
    """Firms of every tier, some without a tier validity or with one run out, stored with their
    matches on DAY, and one active subscription for the county 440703 only."""
    firms = []
    for i in range(40):
        fields = firm(tier=TIERS[i % 5], trademarks=i % 4, county="440703" if i % 3 else "440781")
        if i % 7 == 0:
            fields.pop("tier_valid_until", None)  # read both ways
        elif i % 4 == 1:
            fields["tier_valid_until"] = "2025-05-31"  # ran out the day before DAY
        firms.append(Profile.model_validate(fields))
    with write_transaction(engine) as connection:
        publish(connection, REAL, by="test")
        for profile in firms:
            store_profile(connection, REAL, profile, changed_by="test", day=DAY)
        connection.execute(
            insert(SUBSCRIPTION).values(
                id="sub_preview",
                url="https://receiver.example/hook",
                secret="x",
                state="active",
                counties=["440703"],
                kinds=None,
                created_at=utcnow(),
                created_by="test",
            )
        )
    return firms


def test_a_changed_measure_moves_exactly_the_firms_matching_moves_and_writes_nothing(
    engine: Engine, stored: list[Profile], tmp_path: Path
) -> None:
    candidate = changed_catalogue(tmp_path)
    gains = {p.uscc for p in stored if CHANGED in set(matched_ids(candidate, p, DAY))} - {
        p.uscc for p in stored if CHANGED in set(matched_ids(REAL, p, DAY))
    }
    losses = {p.uscc for p in stored if CHANGED in set(matched_ids(REAL, p, DAY))} - {
        p.uscc for p in stored if CHANGED in set(matched_ids(candidate, p, DAY))
    }
    assert gains and losses
    batches: list[int] = []
    with engine.connect() as connection:
        before = row_counts(connection)
        preview = preview_impact(
            connection, REAL, candidate, day=DAY, sample=100, batch_size=7, progress=batches.append
        )
        assert row_counts(connection) == before
    assert sum(batches) == len(stored) == preview.firms and max(batches) == 7
    assert [m.measure_id for m in preview.measures] == [CHANGED]
    impact = preview.measures[0]
    assert impact.change == "changed"
    assert {f.uscc for f in impact.gained_firms} == gains
    assert {f.uscc for f in impact.lost_firms} == losses
    assert sum(impact.gained.values()) == len(gains) and sum(impact.lost.values()) == len(losses)
    into = sum(n for (was, now), n in impact.moved.items() if now == "matched")
    assert into == len(gains) and ("near_miss", "matched") in impact.moved  # innovative firms
    assert preview.events == {"measure.matched": len(gains), "measure.unmatched": len(losses)}
    in_703 = impact.gained["440703"] + impact.lost["440703"]
    assert preview.deliveries == in_703 and preview.subscriptions >= 1


def test_the_first_firms_are_listed_by_credit_code_and_counted_by_county(
    engine: Engine, stored: list[Profile], tmp_path: Path
) -> None:
    candidate = changed_catalogue(tmp_path)
    with engine.connect() as connection:
        everything = preview_impact(connection, REAL, candidate, day=DAY, sample=100)
        few = preview_impact(connection, REAL, candidate, day=DAY, sample=2)
    listed = [f.uscc for f in few.measures[0].lost_firms]
    assert listed == sorted(f.uscc for f in everything.measures[0].lost_firms)[:2]
    assert few.measures[0].lost == everything.measures[0].lost
    counties = {p.uscc: p.county for p in stored}
    assert all(counties[f.uscc] == f.county for f in everything.measures[0].gained_firms)


def test_the_catalogue_in_force_against_itself_moves_nothing(
    engine: Engine, stored: list[Profile]
) -> None:
    with engine.connect() as connection:
        preview = preview_impact(connection, REAL, REAL, day=DAY)
    assert preview.unchanged and preview.measures == [] and preview.events == {}
    assert preview.firms >= len(stored) and preview.stale == 0


def test_a_removed_measure_is_lost_by_every_firm_that_had_it(
    engine: Engine, stored: list[Profile], tmp_path: Path
) -> None:
    policies = copy_policies(tmp_path)
    (policies / "measures" / f"{CHANGED}.yaml").unlink()

    def drop(data: dict[str, Any]) -> None:
        for indicator in data["indicators"]:
            indicator["measures"] = [m for m in indicator["measures"] if m != CHANGED]
        data["indicators"] = [i for i in data["indicators"] if i["measures"]]

    edit_yaml(policies / "indicators.yaml", drop)
    candidate = load_catalogue(policies)
    with engine.connect() as connection:
        preview = preview_impact(connection, REAL, candidate, day=DAY, sample=100)
    impact = preview.measures[0]
    assert (impact.measure_id, impact.change) == (CHANGED, "removed")
    had = {p.uscc for p in stored if CHANGED in matched_ids(REAL, p, DAY)}
    assert {f.uscc for f in impact.lost_firms} == had and not impact.gained
    assert set(s for _, s in impact.transitions) == {"absent"}
