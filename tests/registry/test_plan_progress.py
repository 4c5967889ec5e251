"""GET /v1/plan/progress on SQLite and PostgreSQL: its counts against a count made in Python."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from service.core.migrate import upgrade_database
from service.policy.profile import Profile
from service.policy.rules import COMPARE, AllOf, AnyOf, Comparison, Condition, NotOf
from service.policy.targets import Target
from service.registry.demo import synthetic_profiles
from service.registry.progress import progress_query, required_tiers
from tests.conftest import Token, serve
from tests.factories import import_quietly, real_catalogue

CATALOGUE = real_catalogue()
DAYS = ("2025-06-01", "2026-11-30")


def _thin(profile: dict[str, Any], n: int) -> dict[str, Any]:
    """Leave some fields out, so that unknowns and a tier without its validity are counted."""
    gone = {"rd_institution"} if n % 5 == 0 else set()
    gone |= {"tier_valid_until"} if n % 7 == 0 else set()
    gone |= {"tier"} if n % 11 == 0 else set()
    gone |= {"listing_stage", "digital_level"} if n % 4 == 1 else set()
    return {k: v for k, v in profile.items() if k not in gone}


class Stored:
    """What the module stored: real firms (some deleted after) and imported synthetic ones."""

    def __init__(self) -> None:
        everyone = synthetic_profiles(260, seed=12)
        self.real = [
            _thin(p.model_dump(mode="json", exclude_unset=True), n)
            for n, p in enumerate(everyone[:200])
        ]
        self.deleted = {p["uscc"] for p in self.real[::9]}
        self.synthetic = [p.model_dump(mode="json", exclude_unset=True) for p in everyone[200:]]

    def counted(self, include_synthetic: bool) -> list[dict[str, Any]]:
        """The profiles the endpoint should count."""
        kept = [p for p in self.real if p["uscc"] not in self.deleted]
        return kept + (self.synthetic if include_synthetic else [])


@pytest.fixture(scope="module")
def stored(
    database: str, auth: Token, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, Stored]]:
    data = Stored()
    with serve(database) as client:
        for profile in data.real:
            answer = client.put(
                f"/v1/enterprises/{profile['uscc']}",
                json=profile,
                headers=auth("enterprises:write"),
            )
            assert answer.status_code == 201, answer.text
        for uscc in data.deleted:
            gone = client.delete(f"/v1/enterprises/{uscc}", headers=auth("enterprises:write"))
            assert gone.status_code == 204
        lines = tmp_path_factory.mktemp("demo") / "demo.jsonl"
        lines.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in data.synthetic))
        report = import_quietly(lines, database, synthetic=True)
        assert report.stored == len(data.synthetic) and not report.bad
        yield client, data


# --- the count in Python: three-valued, a tier read as match() reads it ------------------------


def _truth(condition: Condition, facts: dict[str, Any]) -> bool | None:
    if isinstance(condition, Comparison):
        if condition.field not in facts:
            return None
        try:
            return bool(COMPARE[condition.operator](facts[condition.field], condition.value))
        except (TypeError, AttributeError):
            return False
    if isinstance(condition, NotOf):
        inner = _truth(condition.not_, facts)
        return None if inner is None else not inner
    if isinstance(condition, AllOf):
        members = [_truth(c, facts) for c in condition.all]
        return False if False in members else None if None in members else True
    assert isinstance(condition, AnyOf)
    members = [_truth(c, facts) for c in condition.any]
    return True if True in members else None if None in members else False


def _on(condition: Condition, profile: dict[str, Any], day: date) -> bool | None:
    facts = Profile.model_validate(profile).facts()
    tier = facts.get("tier")
    readings = [facts]
    if tier not in (None, "none"):
        if "tier_valid_until" not in facts:  # may or may not count: both readings must agree
            readings = [facts, {**facts, "tier": "none"}]
        elif facts["tier_valid_until"] is not None and facts["tier_valid_until"] < day:
            readings = [{**facts, "tier": "none"}]
    outcomes = {_truth(condition, r) for r in readings}
    return outcomes.pop() if len(outcomes) == 1 else None


def _expected(
    target: Target, profiles: list[dict[str, Any]], day: date
) -> dict[str, list[int | None]]:
    """county -> [firms (a share's base, else None), count, unknown], counties with any."""
    assert target.counted is not None
    among = target.counted.among
    tallies: dict[str, list[Any]] = {}
    for profile in profiles:
        if among is not None and _on(among, profile, day) is not True:
            continue
        tally = tallies.setdefault(profile["county"], [0 if among else None, 0, 0])
        where = _on(target.counted.where, profile, day)
        if among is not None:
            tally[0] += 1
        tally[1] += where is True
        tally[2] += where is None
    return {county: tally for county, tally in tallies.items() if any(tally)}


def _progress(client: TestClient, auth: Token, **params: str) -> dict[str, Any]:
    answer = client.get("/v1/plan/progress", params=params, headers=auth("stats:read"))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("include_synthetic", [False, True])
def test_every_count_is_the_count_made_in_python(
    stored: tuple[TestClient, Stored], auth: Token, day: str, include_synthetic: bool
) -> None:
    client, data = stored
    profiles = data.counted(include_synthetic)
    body = _progress(client, auth, as_of=day, include_synthetic=str(include_synthetic).lower())
    assert body["as_of"] == day and body["include_synthetic"] is include_synthetic
    counted = 0
    for target, item in zip(CATALOGUE.targets, body["items"], strict=True):
        assert item["id"] == target.id
        if target.counted is None:
            assert item["total"] is None and item["by_county"] == [] and item["not_counted"]
            continue
        counted += 1
        expected = _expected(target, profiles, date.fromisoformat(day))
        answered = {c["county"]: [c["firms"], c["count"], c["unknown"]] for c in item["by_county"]}
        assert {k: v for k, v in answered.items() if any(v)} == expected, target.id
        assert len(answered) == 7
        total = [sum(v[i] or 0 for v in expected.values()) for i in range(3)]
        shared = target.counted.among is not None
        assert item["total"] == {
            "firms": total[0] if shared else None,
            "count": total[1],
            "unknown": total[2],
            "share_percent": round(100 * total[1] / total[0], 2) if shared and total[0] else None,
        }, target.id
    assert counted >= 8


def test_a_recognition_counts_only_while_it_is_valid(
    stored: tuple[TestClient, Stored], auth: Token
) -> None:
    client, _ = stored
    early, late = (_progress(client, auth, as_of=day) for day in ("2024-06-01", "2028-01-01"))
    giants = [
        next(i for i in b["items"] if i["id"] == "provincial-specialised") for b in (early, late)
    ]
    # by 2028 every dated recognition of the demo firms (valid 2024 to late 2027) has expired
    assert giants[0]["total"]["count"] > giants[1]["total"]["count"]


def test_one_county_is_counted_alone(stored: tuple[TestClient, Stored], auth: Token) -> None:
    client, data = stored
    body = _progress(client, auth, county="440781", as_of=DAYS[0])
    firms = [p for p in data.counted(False) if p["county"] == "440781"]
    assert body["county"] == "440781"
    for item in body["items"]:
        assert [c["county"] for c in item["by_county"]] in ([], ["440781"])
    coverage = next(i for i in body["items"] if i["id"] == "rd-institution-coverage")
    assert coverage["by_county"][0]["county_name"] == "台山市"
    target = next(t for t in CATALOGUE.targets if t.id == "rd-institution-coverage")
    expected = _expected(target, firms, date.fromisoformat(DAYS[0]))["440781"]
    assert [coverage["total"][k] for k in ("firms", "count", "unknown")] == expected


def test_the_plans_numbers_are_the_targets(stored: tuple[TestClient, Stored], auth: Token) -> None:
    client, _ = stored
    items = {i["id"]: i for i in _progress(client, auth)["items"]}
    assert (items["little-giants"]["baseline"], items["little-giants"]["target"]) == (24, 48)
    provincial = items["provincial-specialised"]
    assert (provincial["baseline"], provincial["target"], provincial["or_more"]) == (
        713,
        1400,
        True,
    )
    assert items["listings-by-2026"]["target"] == 10
    yearly = items["listings-per-year"]
    assert (yearly["target"], yearly["target_max"], yearly["per_year"]) == (1, 2, True)
    assert items["rd-institution-coverage"]["target"] == 100
    assert all(i["year"] == 2026 for i in items.values())


def test_the_answer_says_the_registry_is_not_the_official_list(
    stored: tuple[TestClient, Stored], auth: Token
) -> None:
    client, _ = stored
    notices = {}
    for language in ("zh-Hans", "zh-Hant", "en"):
        answer = client.get(
            "/v1/plan/progress", headers=auth("stats:read", **{"Accept-Language": language})
        )
        assert answer.headers["content-language"] == language
        notices[language] = answer.json()["notice"]
        titles = {i["id"]: i["title"] for i in answer.json()["items"]}
        assert ("小巨人" in titles["little-giants"]) == (language != "en")
    assert "不是" in notices["zh-Hans"] and "官方认定名单" in notices["zh-Hans"]
    assert "官方認定名單" in notices["zh-Hant"] and "not the official" in notices["en"]
    default = client.get("/v1/plan/progress", headers=auth("stats:read")).json()
    assert default["notice"] == notices["zh-Hans"]
    synthetic = _progress(client, auth, include_synthetic="true")
    assert "合成演示数据" in synthetic["notice"]


def test_banks_and_callers_without_the_scope_are_refused(
    stored: tuple[TestClient, Stored], auth: Token
) -> None:
    client, _ = stored
    assert client.get("/v1/plan/progress").status_code == 401
    assert client.get("/v1/plan/progress", headers=auth("enterprises:read")).status_code == 403
    bank = client.get("/v1/plan/progress", headers=auth("stats:read", bank_id="bank-demo-1"))
    assert bank.status_code == 403 and bank.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"county": "440700"}, "county"),
        ({"county": "x" * 7}, "county"),
        ({"as_of": "2025-13-01"}, "as_of"),
        ({"as_of": "0"}, "as_of"),
        ({"include_synthetic": "sometimes"}, "include_synthetic"),
    ],
)
def test_bad_parameters_are_422_naming_them(
    stored: tuple[TestClient, Stored], auth: Token, params: dict[str, str], field: str
) -> None:
    client, _ = stored
    answer = client.get("/v1/plan/progress", params=params, headers=auth("stats:read"))
    assert (
        answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    )
    assert [e["field"] for e in answer.json()["errors"]] == [field]


def test_the_operation_is_documented_with_its_scope(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/v1/plan/progress"]["get"]
    assert operation["security"][0]["OAuth2"] == ["stats:read"]
    assert {"401", "403", "422", "503"} <= set(operation["responses"])


def test_the_counts_are_one_query_over_the_typed_columns() -> None:
    query, laid = progress_query(
        CATALOGUE.targets, date(2025, 6, 1), county=None, include_synthetic=False
    )
    text = str(query)
    assert "GROUP BY enterprise.county" in text and "enterprise.profile" not in text
    assert len(laid.targets) == sum(t.counted is not None for t in CATALOGUE.targets)
    assert len(laid.keys) < len(laid.targets)  # the tier tests are grouped on, once a row


@pytest.mark.parametrize(
    ("condition", "tiers"),
    [
        ({"field": "tier", "is": "little_giant"}, {"little_giant"}),
        ({"field": "tier", "one_of": ["none", "municipal"]}, None),  # an expired tier is none
        ({"field": "tier", "is_not": "none"}, None),
        ({"field": "trademarks", "at_least": 2}, None),
        (
            {"all": [{"field": "trademarks", "at_least": 2}, {"field": "tier", "is": "municipal"}]},
            {"municipal"},
        ),
        (
            {"any": [{"field": "tier", "is": "municipal"}, {"field": "tier", "is": "provincial"}]},
            {"municipal", "provincial"},
        ),
        (
            {"any": [{"field": "tier", "is": "municipal"}, {"field": "digital_level", "is": 3}]},
            None,
        ),
        ({"not": {"field": "tier", "is": "municipal"}}, None),
    ],
)
def test_only_the_tiers_a_condition_can_count_are_read(
    condition: dict[str, Any], tiers: set[str] | None
) -> None:
    parsed = TypeAdapter(Condition).validate_python(condition)
    assert required_tiers(parsed) == (None if tiers is None else frozenset(tiers))


def test_each_caller_has_a_budget_of_counts(tmp_path: Path, auth: Token) -> None:
    url = f"sqlite:///{tmp_path / 'budget.db'}"
    upgrade_database(url)
    with serve(url, rate_limit_plan_progress="2/minute") as client:
        answers = [client.get("/v1/plan/progress", headers=auth("stats:read")) for _ in range(3)]
        other = client.get("/v1/plan/progress", headers=auth("stats:read", subject="other"))
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2].headers["retry-after"]) >= 1
    assert answers[2].headers["content-type"] == "application/problem+json"
    assert other.status_code == 200  # a budget is per caller
