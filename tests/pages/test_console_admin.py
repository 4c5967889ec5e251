"""The sign-in, push and disclosure pages in a real browser, signed in as a person would with
the demo clients: each sees only what its scopes open, a forged form is refused, and nothing
is fetched from anywhere but the service.

The service here runs its push worker, one attempt per delivery, against a receiver that
always fails: the push page has dead deliveries to show and to deliver again.
POLICY_MATCH_SCREENSHOTS=docs/console keeps sign-in.png, push.png and disclosures.png."""

import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from bench.common import free_port, start_server, stop_server
from service.core.migrate import upgrade_database
from tests.factories import firm
from tests.pages.harness import BROWSER_MARKS, foreign, requested_urls, screenshot, wait
from tests.receiver import Receiver, start_receiver

pytestmark = BROWSER_MARKS

NOT_ALLOWED = "无权访问"


@pytest.fixture(scope="module")
def failing_receiver() -> Iterator[Receiver]:
    """A subscriber whose every answer is 500."""
    for receiver in start_receiver():
        receiver.behaviour = lambda n, event_id: 500
        yield receiver


@pytest.fixture(scope="module")
def service_url(
    tmp_path_factory: pytest.TempPathFactory, failing_receiver: Receiver
) -> Iterator[str]:
    """The service with the demo clients and its push worker (one attempt a delivery), with
    dead deliveries and a disclosure already recorded."""
    url = f"sqlite:///{tmp_path_factory.mktemp('admin-pages') / 'policy_match.db'}"
    upgrade_database(url)
    clients = subprocess.run(
        [sys.executable, "-m", "service.cli", "demo-clients"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    port = free_port()
    server = start_server(
        port,
        database_url=url,
        enable_token_endpoint="true",
        auth_clients=clients,
        push_worker_in_process="true",
        push_allow_internal_targets="true",
        push_max_attempts="1",
        push_poll_seconds="0.2",
        metrics_refresh_seconds="0.3",  # the push page's counts come from this reading
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _history(base, failing_receiver)
        yield base
    finally:
        stop_server(server)


def _token(base: str, client_id: str, secret: str) -> dict[str, str]:
    answer = httpx.post(
        f"{base}/v1/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=30,
    )
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _history(base: str, receiver: Receiver) -> None:
    """Subscribe the failing receiver, store two consenting firms, let their events die, and
    have the demo bank ask about a finance measure (a disclosure)."""
    for _ in range(100):
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    platform = _token(base, "demo-platform", "demo-platform-secret-0001")
    made = httpx.post(
        f"{base}/v1/subscriptions",
        json={"url": receiver.url, "description": "（演示）县区窗口"},
        headers=platform,
    )
    assert made.status_code == 201, made.text
    receiver.secrets.append(made.json()["secret"])
    for _ in range(2):
        profile = firm(bank_consents=["bank-demo-1"], guaranteed_loan=True)
        stored = httpx.put(
            f"{base}/v1/enterprises/{profile['uscc']}", json=profile, headers=platform
        )
        assert stored.status_code in (200, 201), stored.text
    bank = _token(base, "demo-bank-1", "demo-bank-secret-0001")
    asked = httpx.get(
        f"{base}/v1/measures/guarantee-fee-subsidy/eligible-enterprises", headers=bank
    )
    assert asked.status_code == 200, asked.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(receiver.received) < 2:
        time.sleep(0.2)
    assert receiver.received, "the worker delivered nothing"
    time.sleep(1.0)  # the last attempts settle as dead, and the outbox is counted again


def sign_in(browser: WebDriver, service_url: str, client_id: str, secret: str) -> None:
    """Sign out if signed in, then sign in with the form, as a person does."""
    browser.delete_all_cookies()
    browser.get(f"{service_url}/console/sign-in")
    form = wait(browser).until(lambda d: d.find_element(By.ID, "sign-in-form"))
    form.find_element(By.ID, "client_id").send_keys(client_id)
    form.find_element(By.ID, "client_secret").send_keys(secret)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser).until(lambda d: d.current_url.rstrip("/").endswith("/console"))


def heading(browser: WebDriver) -> str:
    """The page's h1."""
    return str(browser.find_element(By.TAG_NAME, "h1").text)


def test_an_auditor_reads_the_disclosures_and_is_refused_the_operators_pages(
    browser: WebDriver, service_url: str
) -> None:
    requested_urls(browser)
    browser.delete_all_cookies()
    browser.get(f"{service_url}/console/sign-in")
    shown = wait(browser).until(lambda d: d.find_element(By.ID, "sign-in-form"))
    assert "客户端密钥" in shown.text
    screenshot(browser, browser.find_element(By.TAG_NAME, "main"), "sign-in.png")
    browser.get(f"{service_url}/console/sign-in")
    form = wait(browser).until(lambda d: d.find_element(By.ID, "sign-in-form"))
    form.find_element(By.ID, "client_id").send_keys("demo-auditor")
    form.find_element(By.ID, "client_secret").send_keys("wrong-secret-000001")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    problem = wait(browser).until(lambda d: d.find_element(By.ID, "sign-in-problem"))
    assert "客户端未知或密钥错误" in problem.text

    sign_in(browser, service_url, "demo-auditor", "demo-auditor-secret-0001")
    browser.find_element(By.LINK_TEXT, "披露记录").click()
    table = wait(browser).until(lambda d: d.find_element(By.ID, "disclosures"))
    assert "bank-demo-1" in table.text and "demo-bank-1" in table.text
    filters = browser.find_element(By.ID, "disclosure-filters")
    filters.find_element(By.ID, "bank_id").send_keys("bank-demo-1")
    filters.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser).until(lambda d: "bank_id=bank-demo-1" in d.current_url)
    assert browser.find_elements(By.CSS_SELECTOR, "#disclosures tbody tr")
    screenshot(browser, browser.find_element(By.TAG_NAME, "main"), "disclosures.png")

    browser.get(f"{service_url}/console/push")
    assert heading(browser) == NOT_ALLOWED and "push" in browser.page_source
    if httpx.get(f"{service_url}/console/preview", follow_redirects=False).status_code != 404:
        browser.get(f"{service_url}/console/preview")  # the impact preview's page, once merged
        assert heading(browser) == NOT_ALLOWED
    assert "推送" not in browser.find_element(By.CSS_SELECTOR, "nav.pages").text
    assert foreign(requested_urls(browser), service_url) == []


def test_the_platform_redelivers_a_dead_delivery_and_a_forged_form_is_refused(
    browser: WebDriver, service_url: str, failing_receiver: Receiver
) -> None:
    requested_urls(browser)
    sign_in(browser, service_url, "demo-platform", "demo-platform-secret-0001")
    browser.find_element(By.LINK_TEXT, "推送").click()
    dead = wait(browser).until(lambda d: d.find_element(By.ID, "dead"))
    assert int(browser.find_element(By.ID, "dead-count").text) >= 2
    assert "HTTP 500" in dead.text
    screenshot(browser, browser.find_element(By.TAG_NAME, "main"), "push.png")
    event = str(dead.find_element(By.CSS_SELECTOR, "tbody tr").get_attribute("data-event"))
    dead_before = int(browser.find_element(By.ID, "dead-count").text)

    # a form made by script, as another site would post it: no CSRF token
    browser.execute_script(
        "const f = document.createElement('form'); f.method = 'post';"
        "f.action = '/console/push/redeliver';"
        "const e = document.createElement('input'); e.name = 'event_id'; e.value = arguments[0];"
        "f.appendChild(e); document.body.appendChild(f); f.submit();",
        event,
    )
    wait(browser).until(lambda d: heading(d) == NOT_ALLOWED)
    assert "未执行任何操作" in browser.page_source
    browser.get(f"{service_url}/console/push")
    assert int(browser.find_element(By.ID, "dead-count").text) == dead_before

    failing_receiver.behaviour = lambda n, event_id: 200
    row = browser.find_element(By.CSS_SELECTOR, f'#dead tr[data-event="{event}"]')
    row.find_element(By.CSS_SELECTOR, "form.redeliver button").click()
    notice = wait(browser).until(lambda d: d.find_element(By.ID, "push-notice"))
    assert event in notice.text
    wait(browser).until(lambda d: event in failing_receiver.event_ids())
    assert foreign(requested_urls(browser), service_url) == []
