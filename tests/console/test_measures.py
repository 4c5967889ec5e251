"""GET /console/measures and /console/measures/{id}: filters, three languages, a measure's page,
and its count of stored firms against POST /v1/match, on SQLite and PostgreSQL."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.core.migrate import upgrade_database
from service.policy.plan_text import simplified
from service.registry.demo import synthetic_profiles
from service.registry.measure_count import MATCH_COUNTS
from tests.conftest import NO_LANGUAGE, Token, serve
from tests.factories import real_catalogue

CATALOGUE = real_catalogue()
COUNTED = (
    "loan-interest-subsidy",
    "ladder-training-courses",
    "tier-innovative-sme-cultivation",
    "little-giant-funding",
    "equity-board-listing",
    "small-micro-scale-up",
)


def _rows(page: str) -> list[str]:
    """The measure ids a list page links to, in order."""
    return re.findall(r'href="/console/measures/([a-z0-9-]+)"', page)


def _count(page: str) -> int:
    found = re.search(r'id="match-count">([0-9,]+)<', page)
    assert found, page
    return int(found.group(1).replace(",", ""))


def _thin(profile: dict[str, Any], n: int) -> dict[str, Any]:
    """Leave some fields out, so that unknowns are counted as match() leaves them."""
    gone = {"tier_valid_until"} if n % 7 == 0 else set()
    gone |= {"tier"} if n % 11 == 0 else set()
    gone |= {"employees", "has_bank_loan"} if n % 4 == 1 else set()
    return {k: v for k, v in profile.items() if k not in gone}


@pytest.fixture(scope="module")
def stored(database: str, auth: Token) -> Iterator[tuple[TestClient, list[dict[str, Any]]]]:
    """The service with 120 stored firms, a tenth of them deleted again."""
    profiles = [
        _thin(p.model_dump(mode="json", exclude_unset=True), n)
        for n, p in enumerate(synthetic_profiles(120, seed=15))
    ]
    with serve(database) as client:
        for profile in profiles:
            answer = client.put(
                f"/v1/enterprises/{profile['uscc']}",
                json=profile,
                headers=auth("enterprises:write"),
            )
            assert answer.status_code == 201, answer.text
        deleted = {p["uscc"] for p in profiles[::10]}
        for uscc in deleted:
            gone = client.delete(f"/v1/enterprises/{uscc}", headers=auth("enterprises:write"))
            assert gone.status_code == 204
        yield client, [p for p in profiles if p["uscc"] not in deleted]


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The service on an empty migrated SQLite database, asking for no language (zh-Hans)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('measures') / 'policy_match.db'}"
    upgrade_database(url)
    with serve(url) as client:
        client.headers.update(NO_LANGUAGE)
        yield client


def test_the_list_shows_every_measure_in_simplified_chinese_first(console: TestClient) -> None:
    page = console.get("/console/measures")
    assert page.status_code == 200 and page.headers["content-language"] == "zh-Hans"
    assert _rows(page.text) == [m.measure_id for m in CATALOGUE.measures]
    assert "贷款贴息" in page.text and "牵头单位" in page.text and "有效期" in page.text
    assert "2024-01-30" in page.text  # validity
    assert f"共 {len(CATALOGUE.measures)} 项措施" in page.text


def test_the_list_speaks_traditional_chinese_and_english_on_request(console: TestClient) -> None:
    traditional = console.get("/console/measures?lang=zh-Hant")
    assert "牽頭單位" in traditional.text and "貸款貼息" in traditional.text
    english = console.get("/console/measures?lang=en")
    assert "Lead unit" in english.text and "loan interest subsidy" in english.text
    # in English the Chinese title stands beside the English one
    assert CATALOGUE.by_id["loan-interest-subsidy"].spec.title.zh_hans in english.text
    console.cookies.clear()  # the switch is remembered: back to the default for the next tests


def _says(measure: Any, words: str) -> bool:
    """Whether the measure's Simplified title or its quote (as issued, or in Simplified) has
    the words."""
    quote = "".join(measure.spec.source.quote)
    return words in measure.spec.title.zh_hans or words in quote or words in simplified(quote)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=loan_interest_subsidy", lambda m: m.spec.kind == "loan_interest_subsidy"),
        ("clause=二(二)5", lambda m: m.spec.clause == "二(二)5"),
        ("department=natural_resources", lambda m: m.departments[0].code == "natural_resources"),
        ("q=小巨人", lambda m: _says(m, "小巨人")),
        ("q=貸款", lambda m: _says(m, "贷款")),  # typed in Traditional, found in either script
        ("q=LOAN", lambda m: "loan" in m.spec.title.en.lower() or "loan" in m.measure_id),
    ],
)
def test_each_filter_narrows_the_list_to_the_measures_it_names(
    console: TestClient, query: str, expected: Any
) -> None:
    page = console.get(f"/console/measures?{query}")
    assert page.status_code == 200
    wanted = [m.measure_id for m in CATALOGUE.measures if expected(m)]
    assert wanted and len(wanted) < len(CATALOGUE.measures)
    assert _rows(page.text) == wanted


def test_a_day_keeps_the_measures_in_force_on_it(console: TestClient) -> None:
    everyone = [m.measure_id for m in CATALOGUE.measures]
    assert _rows(console.get("/console/measures?in_force_on=2025-06-01").text) == everyone
    after = console.get("/console/measures?in_force_on=2027-06-01")
    assert after.status_code == 200 and _rows(after.text) == []
    assert "没有符合这些筛选条件的措施" in after.text


def test_filters_combine_and_empty_values_are_no_filter(console: TestClient) -> None:
    page = console.get("/console/measures?kind=&clause=&q=&county=&in_force_on=&department=")
    assert len(_rows(page.text)) == len(CATALOGUE.measures)
    both = console.get("/console/measures?kind=central_fund&q=小巨人")
    wanted = [
        m.measure_id
        for m in CATALOGUE.measures
        if m.spec.kind == "central_fund" and _says(m, "小巨人")
    ]
    assert wanted and _rows(both.text) == wanted
    none = console.get("/console/measures?kind=loan_interest_subsidy&q=没有这样的词")
    assert _rows(none.text) == [] and "没有符合这些筛选条件的措施" in none.text


def test_a_county_keeps_the_measures_a_firm_there_may_be_eligible_for(console: TestClient) -> None:
    page = console.get("/console/measures?county=440703")
    assert _rows(page.text) == [m.measure_id for m in CATALOGUE.measures]  # every county is in
    assert "precise-policy-push" in _rows(page.text)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("kind=nonsense", "kind"),
        ("clause=九(九)", "clause"),
        ("department=nobody", "department"),
        ("county=110000", "county"),
        ("in_force_on=2025-13-01", "in_force_on"),
        ("in_force_on=0", "in_force_on"),
        ("q=" + "词" * 101, "q"),
    ],
)
def test_a_bad_filter_value_is_a_422_page_naming_the_parameter(
    console: TestClient, query: str, parameter: str
) -> None:
    page = console.get(f"/console/measures?{query}")
    assert page.status_code == 422
    assert f"<code>{parameter}</code>" in page.text and "无法按以下条件筛选" in page.text
    assert _rows(page.text) == []


def test_a_measure_s_page_has_its_sentence_conditions_units_validity_and_cases(
    console: TestClient,
) -> None:
    measure = CATALOGUE.by_id["loan-interest-subsidy"]
    page = console.get("/console/measures/loan-interest-subsidy")
    assert page.status_code == 200
    text = page.text
    assert measure.spec.title.zh_hans in text
    quote = measure.spec.source.quote[0]
    assert quote in text  # as issued
    assert "须为市级专精特新中小企业及以上，且认定在有效期内" in text
    assert "须有银行贷款" in text
    for unit in measure.departments:
        assert unit.zh_hans in text
    assert "蓬江区人民政府" in text and "恩平市人民政府" in text
    assert f"{measure.spec.valid_from} – {measure.spec.valid_until}" in text
    for case in measure.spec.cases:
        assert case.name in text
    assert text.count("✓") == len(measure.spec.cases) and "✗" not in text
    assert _count(text) == 0  # nothing stored


def test_a_measure_s_page_in_traditional_chinese_and_english(console: TestClient) -> None:
    hant = console.get("/console/measures/little-giant-funding?lang=zh-Hant").text
    original = CATALOGUE.by_id["little-giant-funding"].spec.source.quote[0]
    # a zh-Hant page shows the plan's sentence as issued first, the Simplified one folded
    assert hant.index(original) < hant.index("簡體文本") < hant.index(simplified(original))
    assert "須為國家級專精特新“小巨人”企業，且認定在有效期內" in hant and "測試用例" in hant
    english = console.get("/console/measures/little-giant-funding?lang=en").text
    assert 'Must be recognised as national "little giant"' in english.replace("&#34;", '"')
    assert "Test cases" in english
    console.cookies.clear()


def test_an_unknown_measure_is_a_404_page(console: TestClient) -> None:
    page = console.get("/console/measures/no-such-measure")
    assert page.status_code == 404 and "没有这项措施" in page.text
    long = console.get("/console/measures/" + "x" * 101)
    assert long.status_code in (404, 422)


def test_the_count_is_the_number_of_stored_firms_post_match_matches(
    stored: tuple[TestClient, list[dict[str, Any]]], auth: Token
) -> None:
    client, profiles = stored
    matched: dict[str, int] = dict.fromkeys(COUNTED, 0)
    for profile in profiles:
        answer = client.post("/v1/match", json=profile, headers=auth("match"))
        assert answer.status_code == 200, answer.text
        ids = {m["measure_id"] for m in answer.json()["matched"]}
        for measure_id in COUNTED:
            matched[measure_id] += measure_id in ids
    counted = {m: _count(client.get(f"/console/measures/{m}").text) for m in COUNTED}
    assert counted == matched
    assert any(matched.values())


def test_a_kept_count_is_counted_again_when_the_registry_changes(
    stored: tuple[TestClient, list[dict[str, Any]]], auth: Token
) -> None:
    client, profiles = stored
    path = "/console/measures/little-giant-funding"
    before = _count(client.get(path).text)
    assert _count(client.get(path).text) == before  # kept
    firm = next(p for p in profiles if p.get("tier") in ("none", "innovative", "municipal"))
    raised = {**firm, "tier": "little_giant", "tier_valid_until": "2099-12-31"}
    answer = client.put(
        f"/v1/enterprises/{firm['uscc']}", json=raised, headers=auth("enterprises:write")
    )
    assert answer.status_code == 200, answer.text
    assert _count(client.get(path).text) == before + 1
    MATCH_COUNTS._kept.clear()
    assert _count(client.get(path).text) == before + 1


def test_every_measure_s_page_renders_with_its_cases_passing(console: TestClient) -> None:
    for measure in CATALOGUE.measures:
        page = console.get(f"/console/measures/{measure.measure_id}")
        assert page.status_code == 200, measure.measure_id
        assert page.text.count("✓") == len(measure.spec.cases) and "✗" not in page.text
        conditions = page.text.split('id="conditions"')[1].split("</ol>")[0]
        assert not re.search(r"\b(tier|one_of|is_not|less_than|starts_with)\b", conditions)
        if measure.spec.county_discretion:
            assert CATALOGUE.county_discretion.listing.zh_hans in page.text
