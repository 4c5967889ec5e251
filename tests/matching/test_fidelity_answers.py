"""What the fidelity review changed in answers: the county decides, and the quality award level."""

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import JSON, MetaData, Table, select

from service.banks.eligibility_sql import eligible_page
from service.core.database import make_engine
from service.core.migrate import upgrade_database
from service.core.tables import ENTERPRISE
from service.matching.match import match
from service.policy.examples import synthetic_uscc
from service.policy.profile import Profile
from tests.conftest import NO_LANGUAGE, Token
from tests.factories import DAY, firm, import_quietly, new_uscc, put, real_catalogue, store_directly

REAL = real_catalogue()
AWARD = "government-quality-award"
TALENT = "practical-talent-incentives"  # 支持有条件的县(市、区)…


def _match(client: TestClient, auth: Token, profile: dict[str, Any], language: str) -> Any:
    response = client.post(
        "/v1/match?as_of=2025-06-01",
        json=profile,
        headers=auth("match", **{"Accept-Language": language}),
    )
    assert response.status_code == 200, response.text
    return response.json()


def _results(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    everything = [*body["matched"], *body["near_misses"], *body["undetermined"]]
    return {r["measure_id"]: r for r in everything}


def test_every_result_of_a_county_measure_says_the_county_decides(
    client: TestClient, auth: Token
) -> None:
    matched = _match(
        client,
        auth,
        {"county": "440781", "tier": "municipal", "tier_valid_until": "2026-12-31"},
        "zh-Hans",
    )
    near = _match(
        client,
        auth,
        {"county": "440783", "tier": "innovative", "tier_valid_until": "2026-12-31"},
        "zh-Hant",
    )
    open_ = _match(client, auth, {"county": "440785"}, "en")
    cases = (
        (matched, "matched", "台山市人民政府决定"),
        (near, "near_misses", "開平市人民政府決定"),
        (open_, "undetermined", "for Enping Municipal People's Government to decide"),
    )
    for body, where, says in cases:
        talent = next(r for r in body[where] if r["measure_id"] == TALENT)
        assert talent["county_discretion"] is True
        assert says in talent["county_discretion_note"]
        others = [r for r in _results(body).values() if r["measure_id"] != TALENT]
        plain = [r for r in others if r["measure_id"] != "migrant-children-schooling"]
        assert plain and all(r["county_discretion"] is False for r in plain)
        assert all("county_discretion_note" not in r for r in plain)


def test_the_batch_and_the_stored_matches_say_the_county_decides(
    registry: TestClient, auth: Token
) -> None:
    body = firm(county="440784", tier="municipal", tier_valid_until="2026-12-31")
    batch = registry.post(
        "/v1/match/batch?as_of=2025-06-01",
        json={"profiles": [body]},
        headers=auth("match", **NO_LANGUAGE),
    ).json()["results"][0]
    assert "鹤山市人民政府决定" in _results(batch)[TALENT]["county_discretion_note"]
    assert put(registry, auth, body).status_code in (200, 201)
    stored = registry.get(
        f"/v1/enterprises/{body['uscc']}/matches", headers=auth("enterprises:read", **NO_LANGUAGE)
    ).json()
    assert "鹤山市人民政府决定" in _results(stored)[TALENT]["county_discretion_note"]


def test_the_catalogue_says_the_county_decides(client: TestClient) -> None:
    body = client.get(f"/v1/measures/{TALENT}", headers=NO_LANGUAGE).json()
    assert body["county_discretion"] is True
    assert "由企业所在县（市、区）人民政府决定" in body["county_discretion_note"]
    plain = client.get("/v1/measures/loan-interest-subsidy", headers=NO_LANGUAGE).json()
    assert plain["county_discretion"] is False and plain["county_discretion_note"] is None
    assert plain["conditions"][1]["source"] == {"kind": "plan", "words": "貸款貼息"}


def test_a_municipal_award_holder_may_apply_for_a_higher_one(
    client: TestClient, auth: Token
) -> None:
    base = {"county": "440703", "tier": "provincial", "tier_valid_until": "2026-12-31"}
    municipal = _match(client, auth, {**base, "quality_award_level": "municipal"}, "zh-Hans")
    assert AWARD in {r["measure_id"] for r in municipal["matched"]}
    national = _match(client, auth, {**base, "quality_award_level": "national"}, "zh-Hans")
    assert AWARD not in _results(national)  # the top held: nothing higher, and not advised
    old_style = _match(client, auth, {**base, "quality_award": False}, "zh-Hans")
    assert AWARD in {r["measure_id"] for r in old_style["matched"]}  # false means level none
    held = _match(client, auth, {**base, "quality_award": True}, "zh-Hans")
    award = next(r for r in held["undetermined"] if r["measure_id"] == AWARD)
    assert award["missing_fields"] == ["quality_award_level"]


def test_an_award_level_that_contradicts_quality_award_is_refused(
    client: TestClient, auth: Token
) -> None:
    profile = {"county": "440703", "quality_award": False, "quality_award_level": "provincial"}
    response = client.post("/v1/match", json=profile, headers=auth("match"))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["$.quality_award_level"]


def test_quality_award_and_its_level_are_read_from_each_other() -> None:
    assert Profile(county="440703", quality_award_level="municipal").facts()["quality_award"]
    assert Profile(county="440703", quality_award=False).facts()["quality_award_level"] == "none"
    assert "quality_award_level" not in Profile(county="440703", quality_award=True).facts()


def test_the_sql_filter_reads_the_award_level_as_matching_does(database: str) -> None:
    engine = make_engine(database)
    levels: list[dict[str, Any]] = [
        {"quality_award_level": "none"},
        {"quality_award_level": "municipal"},
        {"quality_award_level": "provincial", "quality_award": True},
        {"quality_award_level": "national"},
        {"quality_award": False},
        {"quality_award": True},
        {},
    ]
    profiles = [
        Profile.model_validate(
            {
                "uscc": new_uscc(),
                "county": "440703",
                "tier": "municipal",
                "tier_valid_until": "2026-12-31",
                **given,
            }
        )
        for given in levels
    ]
    store_directly(engine, profiles)
    measure = REAL.by_id[AWARD]
    expected = {
        p.uscc
        for p in profiles
        if AWARD
        in {
            m.measure_id for m in match(catalogue=REAL, facts=p.facts(), as_of=DAY).matched_measures
        }
    }
    with engine.connect() as connection:
        rows = eligible_page(connection, REAL, measure, DAY, bank_id=None, after=None, limit=500)
    found = {r.uscc for r in rows} & {p.uscc for p in profiles}
    engine.dispose()
    assert found == expected and len(expected) == 4  # none, municipal, provincial, false


def test_the_profile_stores_and_imports_the_award_level(
    registry: TestClient, auth: Token, database: str, tmp_path: Path
) -> None:
    body = firm(quality_award=True, quality_award_level="provincial")
    assert put(registry, auth, body).status_code in (200, 201)
    read = registry.get(f"/v1/enterprises/{body['uscc']}", headers=auth("enterprises:read"))
    assert read.json()["quality_award_level"] == "provincial"
    uscc = new_uscc()
    path = tmp_path / "firms.csv"
    path.write_text(
        f"uscc,county,quality_award_level\n{uscc},440781,national\n{new_uscc()},440781,gold\n",
        encoding="utf-8",
    )
    report = import_quietly(path, database)
    assert report.created == 1 and [b.line for b in report.bad] == [3]
    assert any("(quality_award_level):" in p for p in report.bad[0].said("en"))
    engine = make_engine(database)
    with engine.connect() as connection:
        stored = connection.execute(
            select(ENTERPRISE.c.quality_award_level, ENTERPRISE.c.quality_award).where(
                ENTERPRISE.c.uscc == uscc
            )
        ).one()
    engine.dispose()
    assert tuple(stored) == ("national", True)


def test_the_openapi_profile_lists_the_award_levels(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    profile = schemas["Profile"]
    level = profile["properties"]["quality_award_level"]
    assert "national" in str(level) and "municipal" in str(level)
    assert "county_discretion" in schemas["MeasureResult"]["properties"]


def test_the_migration_reads_no_award_as_level_none(empty_database: str) -> None:
    upgrade_database(empty_database, "0003")
    engine = make_engine(empty_database)
    held, none = synthetic_uscc("91440781MA4W6K2L2"), synthetic_uscc("91440781MA4W6K2L3")
    table = Table("enterprise", MetaData(), autoload_with=engine)  # as revision 0003 left it
    assert "quality_award_level" not in table.c
    with engine.begin() as connection:
        for uscc, award in ((held, True), (none, False)):
            row = {c.name: _filler(c) for c in table.c if not c.nullable}
            row.update(uscc=uscc, county="440781", quality_award=award)
            connection.execute(table.insert().values(**row))
    engine.dispose()
    upgrade_database(empty_database)
    engine = make_engine(empty_database)
    with engine.connect() as connection:
        levels = dict(
            connection.execute(select(ENTERPRISE.c.uscc, ENTERPRISE.c.quality_award_level)).all()
        )
    engine.dispose()
    assert levels == {held: None, none: "none"}


def _filler(column: Any) -> Any:
    """A value for a required column of a row written by hand at an older revision."""
    kind = column.type.python_type if not isinstance(column.type, JSON) else dict
    return {
        bool: False,
        int: 1,
        str: "x",
        dict: {},
        list: [],
        datetime: datetime(2026, 11, 27, tzinfo=UTC),
        date: DAY,
    }[kind]
