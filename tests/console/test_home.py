"""The console's front page: what each page is for, and the import template to download."""

from fastapi.testclient import TestClient

from tests.conftest import NO_LANGUAGE


def test_the_front_page_links_the_import_template(client: TestClient) -> None:
    page = client.get("/console/", headers=NO_LANGUAGE)
    assert "企业导入模板（.xlsx）" in page.text
    assert 'href="/v1/enterprises/import-template.xlsx"' in page.text
    template = client.get("/v1/enterprises/import-template.xlsx")  # as the browser follows it
    assert template.status_code == 200 and template.content[:2] == b"PK"
    try:
        english = client.get("/console/?lang=en")  # the choice is kept in a cookie
        assert "Enterprise import template (.xlsx)" in english.text
    finally:
        client.cookies.clear()  # the session's client: the next test starts with no choice
