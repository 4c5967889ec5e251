"""方案原文 in a real browser: every sentence a measure quotes is highlighted with links to its
measures (checked against GET /v1/measures), the original Traditional text is one click away, a
measure is found from a fragment of its sentence, and nothing is asked of another host.

POLICY_MATCH_SCREENSHOTS=docs/console saves docs/console/plan.png and plan-search.png."""

from typing import Any

import httpx
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from tests.pages.harness import BROWSER_MARKS, foreign, requested_urls, screenshot, wait

pytestmark = BROWSER_MARKS

# Each highlighted sentence: its words and the measures its links open.
MARKED = """
return Array.from(document.querySelectorAll('.plan-text .sentence.quoted')).map(s => ({
  words: s.querySelector('mark').textContent,
  measures: Array.from(s.querySelectorAll('.measure-links a'))
    .map(a => new URL(a.href).pathname.replace('/console/measures/', '')),
  background: getComputedStyle(s.querySelector('mark')).backgroundColor,
}));
"""


def quoted_sentences(service_url: str, script: str) -> dict[str, set[str]]:
    """Each sentence the catalogue's measures quote (in `script`), and the measures quoting it."""
    measures = httpx.get(f"{service_url}/v1/measures", timeout=30).json()["items"]
    quoted: dict[str, set[str]] = {}
    for measure in measures:
        field = "quote_zh_hans" if script == "simplified" else "quote"
        for quote in measure["source"][field]:
            quoted.setdefault(quote, set()).add(measure["measure_id"])
    return quoted


def highlighted(browser: WebDriver) -> dict[str, list[str]]:
    """The sentences the page highlights, with the measures each links to."""
    marked: list[dict[str, Any]] = browser.execute_script(MARKED)
    assert all(m["background"] not in ("rgba(0, 0, 0, 0)", "transparent") for m in marked)
    return {m["words"]: m["measures"] for m in marked}


def test_the_plan_highlights_every_quoted_sentence_and_shows_the_original_one_click_away(
    browser: WebDriver, service_url: str
) -> None:
    requested_urls(browser)  # forget what came before
    browser.get(f"{service_url}/console/plan")
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".plan-text .sentence.quoted"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "方案原文"
    expected = quoted_sentences(service_url, "simplified")
    shown = highlighted(browser)
    assert shown.keys() == expected.keys()
    assert {words: set(ids) for words, ids in shown.items()} == expected
    links = len(browser.find_elements(By.CSS_SELECTOR, ".plan-text mark + .measure-links a"))
    assert links == sum(len(ids) for ids in expected.values())
    plain = browser.find_elements(By.CSS_SELECTOR, ".plan-text .sentence.plain")
    assert any(s.text == "提高企业产品国内国际市场占有率。" for s in plain)
    screenshot(
        browser, browser.find_element(By.CSS_SELECTOR, "h2.plan-section:nth-of-type(2)"), "plan.png"
    )

    browser.find_element(By.ID, "script-toggle").click()
    wait(browser).until(lambda d: "script=original" in d.current_url)
    original = quoted_sentences(service_url, "original")
    assert {words: set(ids) for words, ids in highlighted(browser).items()} == original
    assert "優化對專精特新中小企業市級貸款貼息獎補政策。" in original
    browser.find_element(By.ID, "script-toggle").click()
    wait(browser).until(lambda d: "script=simplified" in d.current_url)
    assert highlighted(browser).keys() == expected.keys()
    assert foreign(requested_urls(browser), service_url) == []


def test_a_measure_is_found_from_a_fragment_of_its_sentence(
    browser: WebDriver, service_url: str
) -> None:
    requested_urls(browser)
    browser.get(f"{service_url}/console/plan")
    for typed in ("贷款贴息奖补", "貸款貼息獎補"):
        box = browser.find_element(By.ID, "plan-q")
        box.clear()
        box.send_keys(typed)
        box.submit()
        wait(browser).until(lambda d: d.find_elements(By.ID, "search-results"))
        results = browser.find_element(By.ID, "search-results")
        found = [
            a.get_attribute("data-measure")
            for a in results.find_elements(By.CSS_SELECTOR, "a.found-measure")
        ]
        assert "loan-interest-subsidy" in found
        assert results.find_element(By.CSS_SELECTOR, "b.hit").text == "贷款贴息奖补"
    screenshot(browser, browser.find_element(By.CSS_SELECTOR, ".plan-tools"), "plan-search.png")
    results.find_element(
        By.CSS_SELECTOR, "a.found-measure[data-measure='loan-interest-subsidy']"
    ).click()
    wait(browser).until(lambda d: d.current_url.endswith("/console/measures/loan-interest-subsidy"))
    assert foreign(requested_urls(browser), service_url) == []
