"""GET /console/calculator: the form in three languages, the answer equal to POST /v1/match's
for the same profile, and a refused field named on the form again (422, never a 500)."""

import random
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from service.core.migrate import upgrade_database
from service.policy.profile_form import NONE_OF_THESE
from service.registry.demo import synthetic_profile
from tests.conftest import ENGLISH, NO_LANGUAGE, serve

PAGE = "/console/calculator"
AS_OF = "2025-06-01"


def form_profile(profile: dict[str, Any]) -> dict[str, Any]:
    """What of a profile the form can say: no bank consents; null only as "none of these"."""
    return {
        name: value
        for name, value in profile.items()
        if name != "bank_consents" and (value is not None or name in ("cluster", "sub_industry"))
    }


def form_query(profile: dict[str, Any]) -> dict[str, str]:
    """A profile as the form sends it: yes/no, numbers and days as text."""
    texts = {True: "yes", False: "no", None: NONE_OF_THESE}
    return {
        name: texts[value] if value is None or isinstance(value, bool) else str(value)
        for name, value in form_profile(profile).items()
    }


def shown_ids(page: str, section: str) -> list[str]:
    """The measure ids listed in one section of the answer (matched, near-misses,
    undetermined)."""
    start = page.index(f'<section id="{section}"')
    end = page.index("</section>", start)
    return re.findall(r'data-measure-id="([^"]+)"', page[start:end])


def refused_fields(page: str) -> list[str]:
    """The fields the page's list of problems names."""
    return re.findall(r'<li data-field="([^"]+)">', page)


@pytest.fixture
def client(client: TestClient) -> TestClient:
    """The suite's service, with a cookie jar of this test's own (the language switch is
    remembered in a cookie); asking for English unless told otherwise."""
    return TestClient(client.app, headers=ENGLISH)


def demo_profiles(count: int) -> list[dict[str, Any]]:
    """Synthetic firms as the demo data makes them."""
    rng = random.Random(15)
    return [synthetic_profile(rng, n) for n in range(count)]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "zh-Hans",
            ("政策计算器", "所在县（市、区）", "台山市", "梯度认定", "不确定", "有银行贷款"),
        ),
        (
            "zh-Hant",
            ("政策計算器", "所在縣（市、區）", "台山市", "梯度認定", "不確定", "有銀行貸款"),
        ),
        ("en", ("Policy calculator", "County-level division", "Taishan City", "Tier recognition")),
    ],
)
def test_the_empty_form_asks_every_field_in_the_pages_language(
    client: TestClient, language: str, words: tuple[str, ...]
) -> None:
    page = client.get(PAGE, params={"lang": language})
    assert page.status_code == 200 and page.headers["content-language"] == language
    assert all(word in page.text for word in words), words
    assert 'id="answer"' not in page.text and refused_fields(page.text) == []
    for field in ("county", "tier", "tier_valid_until", "has_bank_loan", "needs_land", "as_of"):
        assert f'id="f-{field}"' in page.text


def test_the_page_speaks_simplified_chinese_when_no_language_is_asked(client: TestClient) -> None:
    page = TestClient(client.app).get(PAGE, headers=NO_LANGUAGE)
    assert page.headers["content-language"] == "zh-Hans" and "计算" in page.text


def test_the_answer_lists_the_measures_post_v1_match_gives_the_same_profile(
    client: TestClient, auth: Any
) -> None:
    for profile in [*demo_profiles(6), {"county": "440781", "tier": "municipal"}]:
        asked = form_profile(profile)
        expected = client.post(
            "/v1/match", params={"as_of": AS_OF}, json=asked, headers=auth("match")
        ).json()
        page = client.get(PAGE, params={**form_query(profile), "as_of": AS_OF})
        assert page.status_code == 200, refused_fields(page.text)
        for section, key in (
            ("matched", "matched"),
            ("near-misses", "near_misses"),
            ("undetermined", "undetermined"),
        ):
            assert shown_ids(page.text, section) == [m["measure_id"] for m in expected[key]]
        indicators = re.findall(r'data-indicator-id="([^"]+)"', page.text)
        assert indicators == [i["id"] for i in expected["indicators"]]


def test_a_near_miss_says_in_words_what_would_have_to_change_and_who_to_contact(
    client: TestClient,
) -> None:
    query = {"county": "440781", "tier": "municipal", "tier_valid_until": "2026-12-31"}
    page = client.get(PAGE, params={**query, "as_of": AS_OF, "lang": "zh-Hans"}).text
    near = page[page.index('<section id="near-misses"') :]
    assert "需要改变的条件" in near and "现状：市级专精特新中小企业" in near
    assert "台山市人民政府" in page and "市工业和信息化局" in page


def test_the_answer_links_to_itself_in_the_other_languages(client: TestClient) -> None:
    query = {"county": "440781", "needs_land": "yes", "as_of": AS_OF}
    page = client.get(PAGE, params={**query, "lang": "zh-Hans"}).text
    found = re.findall(r'<a href="([^"]+)" hreflang="([^"]+)"[^>]*class="calc-language"', page)
    links = dict(found)
    assert sorted(links.values()) == ["en", "zh-Hant"]
    for address, language in links.items():
        other = client.get(address.replace("&amp;", "&"))
        assert other.headers["content-language"] == language
        assert shown_ids(other.text, "matched") == shown_ids(page, "matched")


def test_each_field_that_would_decide_a_measure_links_to_its_place_on_the_form(
    client: TestClient,
) -> None:
    page = client.get(PAGE, params={"county": "440703", "as_of": AS_OF}).text
    undetermined = page[page.index('<section id="undetermined"') :]
    linked = set(re.findall(r'href="#f-([a-z_]+)"', undetermined))
    assert {"tier", "employees"} <= linked
    assert all(f'id="f-{field}"' in page for field in linked)


@pytest.mark.parametrize(
    ("language", "label", "reason"),
    [
        ("zh-Hans", "从业人员数（人）", "应为有效的整数"),
        ("zh-Hant", "從業人員數（人）", "應為有效的整數"),
        ("en", "Employees (persons)", "Input should be a valid integer"),
    ],
)
def test_a_refused_field_is_named_on_the_form_again_in_the_pages_language(
    client: TestClient, language: str, label: str, reason: str
) -> None:
    page = client.get(PAGE, params={"county": "440781", "employees": "many", "lang": language})
    assert page.status_code == 422
    assert refused_fields(page.text) == ["employees"]
    assert label in page.text and reason in page.text
    assert 'value="many"' in page.text  # the form keeps what was typed
    assert 'id="answer"' not in page.text


def test_a_profile_without_its_county_or_with_a_bad_day_is_refused_naming_them(
    client: TestClient,
) -> None:
    page = client.get(PAGE, params={"needs_land": "yes", "as_of": "2025-02-30", "lang": "en"})
    assert page.status_code == 422
    assert sorted(refused_fields(page.text)) == ["as_of", "county"]


@pytest.mark.parametrize(
    "query",
    [
        {"county": "999999"},
        {"county": "440781", "has_bank_loan": "perhaps"},
        {"county": "440781", "tier": "emperor"},
        {"county": "440781", "tier_valid_until": "tomorrow"},
        {"county": "440781", "revenue_cny": "1" * 30},
        {"county": "440781", "name": "x" * 5000},
        {"county": "440781", "uscc": "91440781MA4W6K2L1X"},
        {"county": "440781", "quality_award": "no", "quality_award_level": "national"},
        {"county": "440781", "profit_cny": "-1.5"},
        {"county": "440781", "name": "a\x00b"},
    ],
)
def test_hostile_or_mistaken_input_gets_the_form_again_never_a_500(
    client: TestClient, query: dict[str, str]
) -> None:
    page = client.get(f"{PAGE}?{urlencode(query)}")
    assert page.status_code == 422 and refused_fields(page.text), page.text[:300]


def test_fields_the_form_does_not_have_are_ignored(client: TestClient) -> None:
    page = client.get(PAGE, params={"county": "440781", "bank_consents": "x", "utm": "1"})
    assert page.status_code == 200 and 'id="answer"' in page.text


def test_the_calculator_stores_nothing_and_loads_only_its_own_files(client: TestClient) -> None:
    page = client.get(PAGE, params={"county": "440781"})
    assert "set-cookie" not in {k.lower() for k in page.headers}
    assert "http://" not in page.text and "https://" not in page.text
    for asset in re.findall(r'(?:src|href)="(/console/static/[^"]+)"', page.text):
        assert client.get(asset).status_code == 200, asset


def test_with_the_console_closed_the_calculator_asks_for_sign_in(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'closed.db'}"
    upgrade_database(url)
    with serve(url, console_public=False) as closed:
        page = closed.get(PAGE, params={"county": "440781"}, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/console/sign-in?next=")
