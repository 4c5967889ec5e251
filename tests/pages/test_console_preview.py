"""The impact preview in a real browser: the service started on a copy of policies/ in which
the test changes one measure; the page computes (its progress polled), lists the firms the
change moves, publishes nothing until the button is pressed, refuses a POST without the CSRF
token, and then follows the re-match run live. Nothing leaves the origin.

POLICY_MATCH_SCREENSHOTS=docs/console saves docs/console/preview.png."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from bench.common import free_port, start_server, stop_server
from service.console.session import SESSION_COOKIE, session_key
from service.core.clock import today
from service.core.database import make_engine, write_transaction
from service.core.logs import mask_credit_code
from service.core.migrate import upgrade_database
from service.core.settings import Settings
from service.policy.profile import Profile
from service.registry.publication import publish, published_version
from service.registry.store import store_profile
from tests.console.test_preview import signed_session
from tests.factories import real_catalogue
from tests.pages.harness import BROWSER_MARKS, foreign, requested_urls, screenshot, wait
from tests.policy_copies import copy_policies
from tests.preview_edit import change_one_measure, firm_of

pytestmark = BROWSER_MARKS

SESSION_SECRET = "console-preview-test-session-secret-0001"
TIERS = ("municipal", "innovative", "provincial", "none", "municipal", "innovative")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path, list[str]]]:
    """The service (its worker inside) on a database of six firms stored today and a copy of
    policies/; its URL, the database's, the folder and the firms' credit codes."""
    folder = tmp_path_factory.mktemp("preview-pages")
    url = f"sqlite:///{folder / 'policy_match.db'}"
    upgrade_database(url)
    policies = copy_policies(folder)
    firms = [Profile.model_validate(firm_of(t, i)) for i, t in enumerate(TIERS)]
    engine = make_engine(url)
    with write_transaction(engine) as connection:
        publish(connection, real_catalogue(), by="test")
        for profile in firms:
            store_profile(connection, real_catalogue(), profile, changed_by="test", day=today())
    engine.dispose()
    port = free_port()
    server = start_server(
        port,
        database_url=url,
        policies_dir=str(policies),
        console_session_secret=SESSION_SECRET,
        push_worker_in_process="true",
    )
    try:
        yield f"http://127.0.0.1:{port}", url, policies, [str(p.uscc) for p in firms]
    finally:
        stop_server(server)


def in_force(database_url: str) -> str | None:
    """The version of the catalogue in force."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return published_version(connection)
    finally:
        engine.dispose()


def test_the_preview_lists_the_moved_firms_and_publishes_only_on_the_button(
    browser: WebDriver, served: tuple[str, str, Path, list[str]]
) -> None:
    service_url, database_url, policies, codes = served
    before = in_force(database_url)
    requested_urls(browser)
    browser.get(f"{service_url}/console/static/console.css")  # the cookie's origin
    key = session_key(
        Settings(environment="test", console_session_secret=SecretStr(SESSION_SECRET))
    )
    cookie = signed_session(key, ["catalogue:admin"], "csrf-of-the-browser-test")
    browser.add_cookie({"name": SESSION_COOKIE, "value": cookie, "path": "/console"})

    change_one_measure(policies)
    browser.get(f"{service_url}/console/preview")
    result = wait(browser, 60).until(lambda d: d.find_element(By.ID, "preview-result"))
    gained = browser.find_element(By.CSS_SELECTOR, ".gained-firms").text
    lost = browser.find_element(By.CSS_SELECTOR, ".lost-firms").text
    municipal, innovative = [codes[0], codes[4]], [codes[1], codes[5]]
    assert all(mask_credit_code(c) in lost for c in municipal)
    assert all(mask_credit_code(c) in gained for c in innovative)
    assert mask_credit_code(codes[2]) not in gained + lost
    assert "品牌培育和运营专业服务" in result.text and "台山市" in result.text
    assert browser.find_element(By.ID, "events-matched").text == "2"
    assert in_force(database_url) == before  # nothing published by looking
    screenshot(browser, browser.find_element(By.TAG_NAME, "h1"), "preview.png")

    status = browser.execute_async_script(
        """const done = arguments[arguments.length - 1];
        const body = new URLSearchParams({catalogue_version: arguments[0]});
        fetch("/console/preview/publish", {method: "POST", body: body})
          .then(r => done(r.status));""",
        browser.find_element(By.NAME, "catalogue_version").get_attribute("value"),
    )
    assert status == 403 and in_force(database_url) == before

    browser.find_element(By.ID, "publish").click()
    wait(browser, 60).until(lambda d: d.find_element(By.ID, "run-state").text == "done")
    assert browser.find_element(By.ID, "run-changed").text == "4"
    assert in_force(database_url) != before
    assert foreign(requested_urls(browser), service_url) == []
