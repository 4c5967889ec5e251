"""The OpenAPI document as its readers and client generators see it (issue 14)."""

import re
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from service.api.openapi_texts import OPENAPI_TAGS, Tag
from service.main import create_app
from service.policy.examples import FULL_PROFILE
from tests.conftest import TEST_SETTINGS, Token

DOCUMENT = create_app(TEST_SETTINGS).openapi()
CHINESE = re.compile(r"[\u4e00-\u9fff]")
SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OPERATION_IDS = {
    "matchProfile",
    "matchBatch",
    "putEnterprise",
    "getEnterprise",
    "deleteEnterprise",
    "getEnterpriseHistory",
    "getEnterpriseMatches",
    "createEnterpriseImport",
    "getEnterpriseImport",
    "getEnterpriseImportResult",
    "listEnterpriseImports",
    "getEnterpriseImportTemplate",
    "exportEnterpriseMatches",
    "listEligibleEnterprises",
    "listDisclosures",
    "createSubscription",
    "listSubscriptions",
    "getSubscription",
    "deleteSubscription",
    "resumeSubscription",
    "listPushEvents",
    "getPushEvent",
    "redeliverPushEvent",
    "listMeasures",
    "getMeasure",
    "listDepartments",
    "getVocabularies",
    "reloadCatalogue",
    "previewCatalogue",
    "listRematches",
    "getRematch",
    "getPlanProgress",
    "issueAccessToken",
    "getLiveness",
    "getReadiness",
}


def operations(section: str = "paths") -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every operation of a section of the document."""
    for path, item in DOCUMENT[section].items():
        for method, operation in item.items():
            yield method, path, operation


def chinese_then_english(text: str) -> bool:
    """Chinese first, English after it."""
    first = CHINESE.search(text)
    english = re.search(r"[A-Za-z]{3,}", CHINESE.sub(" ", text[first.end() :] if first else ""))
    return first is not None and first.start() < 3 and english is not None


def schemas_in(node: Any) -> Iterator[dict[str, Any]]:
    """Every dict anywhere inside a part of the document."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from schemas_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from schemas_in(value)


def test_every_operation_has_its_stable_lower_camel_id() -> None:
    ids = [operation["operationId"] for _, _, operation in operations()]
    assert len(ids) == len(set(ids))
    assert set(ids) == OPERATION_IDS
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", i) for i in ids)
    webhook = DOCUMENT["webhooks"]["measure-event"]["post"]
    assert webhook["operationId"] == "receiveMeasureEvent"


def test_every_operation_is_summarised_and_described_chinese_first() -> None:
    for method, path, operation in [*operations(), *operations("webhooks")]:
        assert chinese_then_english(operation["summary"]), (method, path)
        description = operation["description"]
        assert chinese_then_english(description), (method, path)
        chinese, _, english = description.partition("\n\n")
        assert CHINESE.search(chinese) and english, (method, path)


def test_every_parameter_and_answer_is_described_chinese_first() -> None:
    for method, path, operation in [*operations(), *operations("webhooks")]:
        for parameter in operation.get("parameters", ()):
            assert chinese_then_english(parameter["description"]), (path, parameter["name"])
        for status, response in operation["responses"].items():
            assert chinese_then_english(response["description"]), (method, path, status)


def test_operations_are_grouped_under_tags_with_chinese_names() -> None:
    declared = {tag["name"]: tag["description"] for tag in DOCUMENT["tags"]}
    assert list(declared) == [str(tag) for tag in Tag] == [t["name"] for t in OPENAPI_TAGS]
    assert all(chinese_then_english(name) for name in declared)
    assert all(chinese_then_english(text) for text in declared.values())
    used = {tag for _, _, operation in operations() for tag in operation["tags"]}
    assert used == set(declared)
    match = DOCUMENT["paths"]["/v1/match"]["post"]
    assert match["tags"] == ["匹配 Matching"]


def test_every_profile_field_is_described_in_chinese_then_english() -> None:
    fields = DOCUMENT["components"]["schemas"]["Profile"]["properties"]
    assert len(fields) >= 32
    for name, field in fields.items():
        assert chinese_then_english(field.get("description", "")), name
    assert "是否有银行贷款" in fields["has_bank_loan"]["description"]


def test_every_enum_names_its_members_and_labels_them_in_chinese() -> None:
    enums = [s for s in schemas_in(DOCUMENT) if isinstance(s.get("enum"), list)]
    assert len(enums) > 20
    for schema in enums:
        values = [v for v in schema["enum"] if v is not None]
        names = schema.get("x-enum-varnames")
        labels = schema.get("x-enum-descriptions")
        assert names is not None and labels is not None, schema
        assert len(names) == len(set(names)) == len(values) == len(labels), schema
        assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", n) for n in names), names
        assert all(CHINESE.search(label) for label in labels), labels
    county = DOCUMENT["components"]["schemas"]["Profile"]["properties"]["county"]
    members = dict(zip(county["enum"], county["x-enum-varnames"], strict=True))
    assert members["440781"] == "TAISHAN" and members["440703"] == "PENGJIANG"
    labels = dict(zip(county["enum"], county["x-enum-descriptions"], strict=True))
    assert labels["440781"] == "台山市"


def test_every_error_answer_is_a_problem_with_typed_errors() -> None:
    for method, path, operation in operations():
        for status, response in operation["responses"].items():
            if status[0] not in "45":
                continue
            content = response["content"]
            assert list(content) == ["application/problem+json"], (method, path, status)
            schema = content["application/problem+json"]["schema"]["$ref"].rpartition("/")[2]
            token_refusal = path == "/v1/auth/token" and status in ("400", "401")
            assert schema == ("OAuthError" if token_refusal else "Problem"), (path, status)
    schemas = DOCUMENT["components"]["schemas"]
    problem = schemas["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(problem)
    items = next(s for s in problem["errors"]["anyOf"] if s.get("type") == "array")["items"]
    assert items == {"$ref": "#/components/schemas/FieldError"}
    assert set(schemas["FieldError"]["required"]) == {"field", "in", "message", "type"}
    assert "error" in schemas["OAuthError"]["required"]
    assert not [name for name in schemas if name.startswith("IssueAccessToken")]


def _json_example_fits(schema: dict[str, Any], example: Any) -> list[str]:
    root = {**schema, "components": DOCUMENT["components"]}
    return [error.message for error in jsonschema_rs.validator_for(root).iter_errors(example)]


def test_every_2xx_answer_has_an_example_that_fits_its_schema() -> None:
    checked = 0
    for method, path, operation in operations():
        for status, response in operation["responses"].items():
            if not status.startswith("2") or "content" not in response:
                continue
            content = response["content"]
            if "text/csv" in content:  # a spreadsheet export: a CSV example, read as CSV
                example = content["text/csv"]["example"]
                assert example.startswith("\ufeff") and "\r\n" in example, path
                assert SHEET in content, path
            if "application/json" not in content:  # a spreadsheet: CSV and .xlsx, or .xlsx alone
                assert "text/csv" in content or list(content) == [SHEET], (method, path, status)
                continue
            media = content["application/json"]
            assert "example" in media, (method, path, status)
            assert _json_example_fits(media["schema"], media["example"]) == [], (path, status)
            checked += 1
    assert checked >= 27


def test_answers_declare_the_headers_they_carry(client: TestClient, auth: Token) -> None:
    def declared(path: str, method: str, status: int) -> set[str]:
        response = DOCUMENT["paths"][path][method]["responses"][str(status)]
        return {name.lower() for name in response["headers"]}

    def carried(headers: Any) -> set[str]:
        return {name.lower() for name in headers}

    for method, path, operation in operations():
        for status, response in operation["responses"].items():
            assert "X-Request-ID" in response["headers"], (method, path, status)
        for status in ("429", "503"):
            if status in operation["responses"]:
                assert "Retry-After" in operation["responses"][status]["headers"], path
    matched = client.post("/v1/match", json=FULL_PROFILE, headers=auth("match"))
    assert declared("/v1/match", "post", 200) <= carried(matched.headers)
    assert {"content-language", "x-catalogue-version"} <= declared("/v1/match", "post", 200)
    measures = client.get("/v1/measures")
    assert declared("/v1/measures", "get", 200) <= carried(measures.headers)
    uscc = FULL_PROFILE["uscc"]
    writer = auth("enterprises:write", "enterprises:read")
    client.delete(f"/v1/enterprises/{uscc}", headers=writer)
    stored = client.put(f"/v1/enterprises/{uscc}", json=FULL_PROFILE, headers=writer)
    assert stored.status_code == 201
    assert {"etag", "location"} <= declared("/v1/enterprises/{uscc}", "put", 201)
    assert declared("/v1/enterprises/{uscc}", "put", 201) <= carried(stored.headers)
    read = client.get(f"/v1/enterprises/{uscc}", headers=writer)
    assert declared("/v1/enterprises/{uscc}", "get", 200) <= carried(read.headers)
    refused = client.post("/v1/match", json={"county": "1"}, headers=auth("match"))
    assert declared("/v1/match", "post", 422) <= carried(refused.headers)
    names = set(DOCUMENT["components"]["headers"])
    assert names >= {"ETag", "Location", "X-Catalogue-Version", "Content-Language"}
    assert names >= {"Retry-After", "RateLimit-Policy", "X-Request-ID"}


@pytest.mark.parametrize("public_url", [None, "https://zwfw.jiangmen.gov.cn/policy-match"])
def test_the_servers_entry_is_the_public_url_setting(public_url: str | None) -> None:
    settings = TEST_SETTINGS.model_copy(update={"public_url": public_url})
    document = create_app(settings).openapi()
    if public_url is None:
        assert "servers" not in document
    else:
        assert [server["url"] for server in document["servers"]] == [public_url]
