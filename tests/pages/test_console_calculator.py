"""The policy calculator in a real browser: filled in as a person would, it shows the measures
POST /v1/match gives the same profile, and its address, opened again, shows the same answer.

POLICY_MATCH_SCREENSHOTS=docs/console keeps docs/console/calculator.png (the form and the
answer)."""

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.pages.harness import BROWSER_MARKS, foreign, requested_urls, screenshot, wait

pytestmark = BROWSER_MARKS

AS_OF = "2025-06-01"
# what the person fills in, as the profile says it
PROFILE: dict[str, Any] = {
    "county": "440781",
    "tier": "municipal",
    "tier_valid_until": "2026-12-31",
    "employees": 120,
    "revenue_cny": 60_000_000,
    "has_bank_loan": True,
    "guaranteed_loan": False,
    "needs_land": True,
    "imports_exports": True,
    "listing_stage": "planning",
}
SECTIONS = {"matched": "matched", "near-misses": "near_misses", "undetermined": "undetermined"}


def platform_match(service_url: str, profile: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/match's answer for `profile`, with a token of the demo platform client."""
    token = httpx.post(
        f"{service_url}/v1/auth/token",
        data={"grant_type": "client_credentials"},
        auth=("demo-platform", "demo-platform-secret-0001"),
    ).json()["access_token"]
    answer = httpx.post(
        f"{service_url}/v1/match",
        params={"as_of": AS_OF},
        json=profile,
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "zh-Hans"},
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def shown(browser: WebDriver) -> dict[str, list[str]]:
    """The measure ids the page lists in each section of its answer."""
    return {
        key: [
            li.get_attribute("data-measure-id") or ""
            for li in browser.find_elements(By.CSS_SELECTOR, f"#{section} li[data-measure-id]")
        ]
        for section, key in SECTIONS.items()
    }


def choose(browser: WebDriver, field: str, answer: str) -> None:
    """Tick one of a yes/no field's answers by its label, as a person clicks it."""
    box = browser.find_element(By.ID, f"f-{field}")
    box.find_element(By.CSS_SELECTOR, f"input[value='{answer}']").find_element(
        By.XPATH, ".."
    ).click()


def fill_in(browser: WebDriver) -> None:
    """The form, filled in with PROFILE by hand: selects by their Chinese names, typing."""
    Select(browser.find_element(By.ID, "in-county")).select_by_visible_text("台山市")
    Select(browser.find_element(By.ID, "in-tier")).select_by_visible_text("市级专精特新中小企业")
    Select(browser.find_element(By.ID, "in-listing_stage")).select_by_visible_text("拟上市")
    day = browser.find_element(By.ID, "in-tier_valid_until")
    day.send_keys("2026-12-31")
    if day.get_attribute("value") != "2026-12-31":  # a date field typed in another order
        day.clear()
        day.send_keys("12312026")
    assert day.get_attribute("value") == "2026-12-31"
    browser.find_element(By.ID, "in-employees").send_keys("120")
    browser.find_element(By.ID, "in-revenue_cny").send_keys("60000000")
    choose(browser, "has_bank_loan", "yes")
    choose(browser, "guaranteed_loan", "no")
    choose(browser, "needs_land", "yes")
    choose(browser, "imports_exports", "yes")
    as_of = browser.find_element(By.ID, "in-as_of")
    as_of.send_keys(AS_OF)
    if as_of.get_attribute("value") != AS_OF:
        as_of.clear()
        as_of.send_keys("06012025")
    assert as_of.get_attribute("value") == AS_OF


def test_the_calculator_filled_in_by_hand_shows_what_post_v1_match_answers(
    browser: WebDriver, service_url: str
) -> None:
    requested_urls(browser)  # forget what came before
    browser.get(f"{service_url}/console/calculator?lang=zh-Hans")
    assert "政策计算器" in browser.title
    fill_in(browser)
    browser.find_element(By.ID, "calculate").click()
    wait(browser).until(lambda d: d.find_elements(By.ID, "answer"))

    expected = platform_match(service_url, PROFILE)
    ids = {key: [m["measure_id"] for m in expected[key]] for key in SECTIONS.values()}
    assert shown(browser) == ids
    assert ids["matched"] and ids["near_misses"] and ids["undetermined"]
    answer = browser.find_element(By.ID, "answer").text
    assert "台山市人民政府" in answer and "需要改变的条件" in answer

    # the address carries what was filled in, and nothing left undecided
    address = browser.current_url
    sent = dict(parse_qsl(urlsplit(address).query))
    assert sent == {
        **{k: "yes" if v is True else "no" if v is False else str(v) for k, v in PROFILE.items()},
        "as_of": AS_OF,
    }
    # a field that would decide a measure links to its place on the form
    missing = browser.find_element(By.CSS_SELECTOR, "#undetermined a.calc-missing")
    target = (missing.get_attribute("href") or "").split("#")[1]
    assert browser.find_element(By.ID, target).is_displayed()

    screenshot_whole(browser)
    assert foreign(requested_urls(browser), service_url) == []

    # the shared address, opened afresh, gives the same answer
    browser.get("about:blank")
    browser.get(address)
    wait(browser).until(lambda d: d.find_elements(By.ID, "answer"))
    assert shown(browser) == ids
    assert foreign(requested_urls(browser), service_url) == []


def test_a_refused_field_is_named_on_the_page(browser: WebDriver, service_url: str) -> None:
    requested_urls(browser)
    browser.get(f"{service_url}/console/calculator?lang=zh-Hans&county=440781&employees=很多")
    problems = browser.find_element(By.ID, "errors").text
    assert "从业人员数（人）" in problems
    assert "calc-refused" in (
        browser.find_element(By.ID, "f-employees").get_attribute("class") or ""
    )
    assert browser.find_elements(By.ID, "answer") == []
    assert foreign(requested_urls(browser), service_url) == []


def screenshot_whole(browser: WebDriver) -> None:
    """docs/console/calculator.png: the form and the top of the answer in one picture;
    calculator-answer.png: the near misses (what would have to change) and what is undecided."""
    size = browser.get_window_size()
    browser.set_window_size(1400, 2600)
    try:
        screenshot(browser, browser.find_element(By.TAG_NAME, "h1"), "calculator.png")
    finally:
        browser.set_window_size(size["width"], size["height"])
    screenshot(browser, browser.find_element(By.ID, "near-misses"), "calculator-answer.png")
