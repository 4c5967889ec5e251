"""The plan's indicators for a firm: checked against the plan, and in every match answer."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from service.matching.indicator_answer import REMEMBERED, IndicatorPieces
from service.policy.catalogue import CatalogueError, load_catalogue
from service.policy.examples import FULL_PROFILE, synthetic_uscc
from service.policy.indicators import indicators_for
from tests.conftest import Token
from tests.factories import real_catalogue
from tests.policy_copies import POLICIES, edit_yaml

# the five targets issue 12 names, by the field and the target the plan's words set
NAMED = {
    ("invention_patents", "at_least", 2),
    ("trademarks", "at_least", 2),
    ("digital_level", "at_least", 3),
    ("rd_institution", "one_of", ("municipal", "provincial", "national")),
    ("university_partner", "is", True),
}


def test_the_indicators_the_issue_names_are_all_there() -> None:
    catalogue = real_catalogue()
    found = {
        (i.target.field, i.target.operator.value, i.target.value) for i in catalogue.indicators
    }
    assert found >= NAMED
    plan = (POLICIES / "plan.txt").read_text(encoding="utf-8")
    for indicator in catalogue.indicators:
        assert indicator.quote in plan and indicator.sentence.zh_hant == indicator.quote
        assert all(m in catalogue.by_id for m in indicator.measures), indicator.id


def test_indicators_for_a_measure_are_those_that_name_it() -> None:
    catalogue = real_catalogue()
    brand = indicators_for(catalogue.indicators, "brand-cultivation-services")
    assert [i.target.field for i in brand] == ["trademarks"]
    assert indicators_for(catalogue.indicators, "no-such-measure") == ()
    for measure in catalogue.measures:
        for indicator in indicators_for(catalogue.indicators, measure.measure_id):
            assert measure.measure_id in indicator.measures


def _first(key: str, field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data[key][0][field] = value

    return change


@pytest.mark.parametrize(
    ("file", "change", "problem"),
    [
        (
            "indicators.yaml",
            _first("indicators", "quote", "提高企業擁有3項以上發明專利的比例"),
            "invention-patents: quote: not found verbatim in the plan",
        ),
        (
            "indicators.yaml",
            _first("indicators", "clause", "二(二)1"),
            "invention-patents: quote: in the plan, but not in clause 二(二)1",
        ),
        (
            "indicators.yaml",
            _first("indicators", "clause", "四(一)"),
            "clause: String should match pattern",
        ),
        (
            "indicators.yaml",
            _first("indicators", "measures", ["patent-cultivation"]),
            "invention-patents: measures: no measure 'patent-cultivation'",
        ),
        (
            "indicators.yaml",
            _first("indicators", "target", {"field": "patents", "at_least": 2}),
            "invention-patents: target (field 'patents'): not a profile field",
        ),
        (
            "indicators.yaml",
            _first("indicators", "target", {"field": "rd_institution", "is": "city"}),
            "['city'] not allowed",
        ),
        (
            "indicators.yaml",
            _first("indicators", "sentence", {"zh-Hans": "提高", "zh-Hant": "提高", "en": "x"}),
            "sentence.zh-Hant: must be the quote itself",
        ),
        (
            "targets.yaml",
            _first("targets", "quote", "力爭在現有25家國家級專精特新"),
            "targets.yaml: little-giants: quote: not found verbatim",
        ),
        (
            "targets.yaml",
            _first("targets", "target", None),
            "`goal: reach` needs a `target` number",
        ),
        (
            "targets.yaml",
            _first("targets", "counted", {"where": {"field": "tier", "is": "giant"}, "what": None}),
            "targets.yaml: targets.0.counted.what",
        ),
    ],
)
def test_a_broken_indicator_or_target_is_refused_naming_it(
    policies: Path, file: str, change: Callable[[dict[str, Any]], object], problem: str
) -> None:
    edit_yaml(policies / file, change)
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(policies)
    assert any(problem in p for p in refused.value.problems), refused.value.problems


def test_a_missing_indicators_file_is_refused(policies: Path) -> None:
    (policies / "indicators.yaml").unlink()
    with pytest.raises(CatalogueError) as refused:
        load_catalogue(policies)
    assert any(p.startswith("indicators.yaml: cannot read") for p in refused.value.problems)


@pytest.mark.slow
def test_the_indicators_change_the_catalogue_version(policies: Path) -> None:
    before = load_catalogue(policies).version
    edit_yaml(
        policies / "indicators.yaml",
        _first("indicators", "measures", ["brand-cultivation-services"]),
    )
    assert load_catalogue(policies).version != before


# --- in the answers ---------------------------------------------------------------------------


def _by_id(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in answer["indicators"]}


def test_each_indicator_says_met_not_met_or_unknown_from_the_firms_value(
    client: TestClient, auth: Token
) -> None:
    catalogue = real_catalogue()
    profile = {
        "county": "440705",
        "invention_patents": 2,  # the plan's 2 patents: met
        "trademarks": 1,  # one short of 2: not met
        "digital_level": 3,  # level 3 or above: met
        "rd_institution": "municipal",  # municipal level or above, but not provincial
        # university_partner and fills_tech_gap left out: unknown
    }
    answer = client.post("/v1/match", json=profile, headers=auth("match"))
    assert answer.status_code == 200
    found = _by_id(answer.json())
    assert list(found) == [i.id for i in catalogue.indicators]
    by_field = {
        i["target"]["field"]: i for i in found.values() if i["id"] != "rd-institution-provincial"
    }
    assert by_field["invention_patents"]["status"] == "met"
    assert by_field["invention_patents"]["actual"] == 2
    assert by_field["trademarks"]["status"] == "not_met"
    assert by_field["digital_level"]["status"] == "met"
    assert by_field["rd_institution"]["status"] == "met"
    assert found["rd-institution-provincial"]["status"] == "not_met"
    for field in ("university_partner", "fills_tech_gap"):
        assert by_field[field]["status"] == "unknown" and by_field[field]["actual"] is None
    patents = found["invention-patents"]
    assert patents["target"] == {
        "text": "有效发明专利不少于2项",
        "field": "invention_patents",
        "operator": "at_least",
        "value": 2,
    }
    assert patents["clause"] == "一(二)" and patents["quote"] == "提高企業擁有2項以上發明專利的比例"
    assert patents["sentence"] == "提高企业拥有2项以上发明专利的比例"
    assert "invention-patent-cultivation" in patents["measures"]


def test_the_threshold_is_the_plans_on_both_sides(client: TestClient, auth: Token) -> None:
    for patents, digital, status in ((1, 2, "not_met"), (2, 3, "met"), (12_345, 4, "met")):
        for language in ("zh-Hans", "en"):  # remembered pieces must not leak across languages
            answer = client.post(
                "/v1/match",
                json={"county": "440703", "invention_patents": patents, "digital_level": digital},
                headers=auth("match", **{"Accept-Language": language}),
            )
            found = _by_id(answer.json())
            assert found["invention-patents"]["status"] == status
            assert found["invention-patents"]["actual"] == patents
            assert found["digital-level-3"]["status"] == status


def test_indicators_speak_the_callers_language(client: TestClient, auth: Token) -> None:
    texts = {}
    for language, words in (("zh-Hans", "发明专利"), ("zh-Hant", "發明專利"), ("en", "patent")):
        answer = client.post(
            "/v1/match",
            json={"county": "440703", "invention_patents": 0},
            headers=auth("match", **{"Accept-Language": language}),
        )
        patents = _by_id(answer.json())["invention-patents"]
        assert words in patents["title"] and words in patents["target"]["text"], language
        assert patents["quote"] == "提高企業擁有2項以上發明專利的比例"  # as issued, always
        texts[language] = (patents["sentence"], patents["status_text"])
    assert len(set(texts.values())) == 3
    assert texts["zh-Hans"][1] == "未达到" and texts["en"][1] == "not met"


def test_the_batch_and_the_stored_firms_matches_carry_the_same_indicators(
    client: TestClient, auth: Token
) -> None:
    single = client.post(
        "/v1/match", json=FULL_PROFILE, params={"as_of": "2025-06-01"}, headers=auth("match")
    ).json()
    batch = client.post(
        "/v1/match/batch",
        json={"profiles": [FULL_PROFILE, {"county": "440703"}]},
        params={"as_of": "2025-06-01"},
        headers=auth("match"),
    ).json()
    assert batch["results"][0]["indicators"] == single["indicators"]
    assert {i["status"] for i in batch["results"][1]["indicators"]} == {"unknown"}
    uscc = synthetic_uscc("91440781MA4W6K2L9")
    stored = client.put(
        f"/v1/enterprises/{uscc}",
        json={**FULL_PROFILE, "uscc": uscc},
        headers=auth("enterprises:write"),
    )
    assert stored.status_code in (200, 201), stored.text
    matches = client.get(
        f"/v1/enterprises/{uscc}/matches",
        params={"as_of": "2025-06-01"},
        headers=auth("enterprises:read"),
    ).json()
    assert matches["indicators"] == single["indicators"]


def test_the_openapi_document_declares_the_indicators_with_an_example(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["MatchResponse"]["properties"]["indicators"]["items"] == {
        "$ref": "#/components/schemas/IndicatorOut"
    }
    assert "indicators" in schemas["MatchResponse"]["required"]
    example = schemas["IndicatorOut"]["examples"][0]
    assert set(example) == set(schemas["IndicatorOut"]["properties"])
    assert schemas["IndicatorOut"]["properties"]["status"]["enum"] == ["met", "not_met", "unknown"]


def test_the_remembered_lists_are_bounded_and_never_mixed_up() -> None:
    pieces = IndicatorPieces(real_catalogue())
    many = REMEMBERED + 50
    for patents in range(many):  # a caller sending ever new values holds at most REMEMBERED
        body = orjson.loads(b"[" + pieces.body({"invention_patents": patents}, "en") + b"]")
        assert body[0]["actual"] == patents
        assert body[0]["status"] == ("met" if patents >= 2 else "not_met")
    remembered = len(pieces.bodies)
    assert 0 < remembered <= REMEMBERED


def test_a_measure_shows_the_indicators_it_works_towards(client: TestClient) -> None:
    brand = client.get("/v1/measures/brand-cultivation-services").json()
    assert brand["indicators"] == [
        {
            "id": "registered-trademarks",
            "title": "拥有2个以上注册商标",
            "target": "注册商标不少于2个",
        }
    ]
    english = client.get(
        "/v1/measures/rd-platform-upgrade", headers={"Accept-Language": "en"}
    ).json()
    assert [i["id"] for i in english["indicators"]] == [
        "rd-institution-municipal",
        "rd-institution-provincial",
    ]
    assert all("R&D" in i["title"] for i in english["indicators"])
    land = client.get("/v1/measures/land-approval-green-channel").json()
    assert land["indicators"] == []
