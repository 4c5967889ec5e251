"""GET /: a person arriving at the service is led to the docs, the code lists and health; and
the Swagger UI keeps its authorization across reloads."""

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient


class Links(HTMLParser):
    """Every href and src of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("href", "src") and value]


def links(html: str) -> list[str]:
    """The URLs a page refers to."""
    parser = Links()
    parser.feed(html)
    return parser.urls


def test_the_front_page_leads_to_the_docs_the_code_lists_and_health(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-language"] == "zh-Hans"
    assert "江门市专精特新政策匹配服务" in page.text
    urls = links(page.text)
    for path in ("/docs", "/redoc", "/openapi.json", "/v1/vocabularies", "/healthz"):
        assert path in urls
    for url in urls:
        assert client.get(url).status_code == 200, url  # every link leads somewhere


def test_the_front_page_loads_nothing_from_elsewhere(client: TestClient) -> None:
    page = client.get("/")
    assert not re.search(r"(https?:)?//", page.text.replace("<!doctype", ""))
    assert all(url.startswith("/") for url in links(page.text))
    assert "default-src 'none'" in page.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("accept_language", "query", "language", "title"),
    [
        (None, "", "zh-Hans", "江门市专精特新政策匹配服务"),
        ("zh-TW,zh;q=0.8", "", "zh-Hant", "江門市專精特新政策匹配服務"),
        ("en-GB,en;q=0.9", "", "en", "Jiangmen policy matching service"),
        ("en", "?lang=zh-Hans", "zh-Hans", "江门市专精特新政策匹配服务"),
        (None, "?lang=en", "en", "Jiangmen policy matching service"),
        ("zh-HK", "?lang=fr", "zh-Hant", "江門市專精特新政策匹配服務"),  # unknown: ignored
    ],
)
def test_the_front_page_speaks_the_language_asked_for(
    client: TestClient, accept_language: str | None, query: str, language: str, title: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    page = client.get(f"/{query}", headers=headers)
    assert page.status_code == 200
    assert page.headers["content-language"] == language
    assert f'<html lang="{language}">' in page.text
    assert f"<h1>{title}</h1>" in page.text
    assert "Accept-Language" in page.headers["vary"]
    # the other two languages are a click away
    assert len([u for u in links(page.text) if "?lang=" in u]) == 2


def test_the_front_page_links_under_the_root_path(client: TestClient) -> None:
    behind_proxy = TestClient(client.app, root_path="/policy-match")
    urls = links(behind_proxy.get("/").text)
    assert "/policy-match/docs" in urls and "/policy-match/healthz" in urls


def test_the_front_page_is_not_an_api_operation(client: TestClient) -> None:
    assert "/" not in client.get("/openapi.json").json()["paths"]


def test_swagger_ui_keeps_its_authorization_across_reloads(client: TestClient) -> None:
    page = client.get("/docs").text
    assert '"persistAuthorization": true' in page
