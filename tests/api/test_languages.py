"""Errors in the caller's language: zh-Hans by default, zh-Hant and en on request; every answer
names its language in Content-Language."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.core.migrate import upgrade_database
from service.policy.examples import FULL_PROFILE
from tests.conftest import NO_LANGUAGE, Token, serve

PROBLEM = "application/problem+json"


def _in(language: str | None) -> dict[str, str]:
    return NO_LANGUAGE if language is None else {"Accept-Language": language}


def _match(client: TestClient, auth: Token, body: Any, language: str | None) -> Any:
    return client.post("/v1/match", json=body, headers=auth("match", **_in(language)))


def test_a_422_reads_in_chinese_by_default(client: TestClient, auth: Token) -> None:
    answer = _match(client, auth, {"county": "440703", "employees": -1}, None)
    assert answer.status_code == 422
    assert answer.headers["content-language"] == "zh-Hans"
    body = answer.json()
    assert body["title"] == "校验未通过"
    assert body["errors"] == [
        {
            "field": "$.employees",
            "in": "body",
            "message": "应大于或等于 0",
            "type": "greater_than_equal",
        }
    ]
    assert body["detail"] == "$.employees：应大于或等于 0"


def test_a_401_reads_in_chinese_by_default(client: TestClient) -> None:
    answer = client.post("/v1/match", json={"county": "440703"}, headers=NO_LANGUAGE)
    assert answer.status_code == 401
    assert answer.headers["content-language"] == "zh-Hans"
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["title"] == "未认证"
    assert answer.json()["detail"].startswith("未提供令牌")


@pytest.mark.parametrize(
    ("language", "title", "message"),
    [
        ("zh-Hant", "校驗未通過", "應大於或等於 0"),
        ("zh-TW", "校驗未通過", "應大於或等於 0"),
        ("en", "Validation failed", "Input should be greater than or equal to 0"),
        ("en-GB,zh;q=0.5", "Validation failed", "Input should be greater than or equal to 0"),
    ],
)
def test_zh_hant_and_english_are_chosen_by_accept_language(
    client: TestClient, auth: Token, language: str, title: str, message: str
) -> None:
    answer = _match(client, auth, {"county": "440703", "employees": -1}, language)
    assert answer.json()["title"] == title
    assert answer.json()["errors"][0]["message"] == message
    assert answer.headers["content-language"] in language or language.startswith("zh-TW")
    assert answer.headers["vary"] == "Accept-Language"


@pytest.mark.parametrize(
    ("body", "type_", "chinese"),
    [
        ({}, "missing", "缺少此字段"),
        ({"county": "440703", "bogus": 1}, "extra_forbidden", "不允许额外的字段"),
        ({"county": "440703", "employees": "many"}, "int_type", "应为有效的整数"),
        ({"county": "440703", "employees": 10**8}, "less_than_equal", "应小于或等于 10000000"),
        ({"county": "440703", "has_bank_loan": "perhaps"}, "bool_type", "应为有效的布尔值"),
        ({"county": "440703", "tier": "golden"}, "literal_error", "应为以下之一："),
        ({"county": "440703", "name": "x" * 300}, "string_too_long", "字符串最多可有 200 个字符"),
        ({"county": "440703", "uscc": "9144030019220382"}, "string_too_short", "至少有 18 个"),
        ({"county": "440703", "name": "a\tb"}, "value_error", "不允许控制字符"),
        ({"county": "440703", "bank_consents": ["a b"]}, "string_pattern_mismatch", "应符合模式"),
        ({"county": "440703", "tier_valid_until": 0}, "value_error", "YYYY-MM-DD 格式的日期"),
        (
            {"county": "440703", "tier_valid_until": "2025-13-45"},
            "date_from_datetime_parsing",
            "应为有效的日期或日期时间",
        ),
        ({"county": "440700"}, "value_error", "不是江门市的县级行政区"),
        ({"county": "440703", "uscc": "914403001922038217"}, "value_error", "校验码为 '7'"),
    ],
)
def test_each_kind_of_validation_error_is_translated_by_its_type(
    client: TestClient, auth: Token, body: dict[str, Any], type_: str, chinese: str
) -> None:
    answer = _match(client, auth, body, None)
    assert answer.status_code == 422, answer.text
    error = answer.json()["errors"][0]
    assert error["type"] == type_
    assert chinese in error["message"], error
    english = _match(client, auth, body, "en").json()["errors"][0]["message"]
    assert not any("\u4e00" <= c <= "\u9fff" for c in english.replace("二(二)2", "")), english


def test_a_choice_is_listed_with_the_chinese_or(client: TestClient, auth: Token) -> None:
    error = _match(client, auth, {"county": "440703", "tier": "golden"}, None).json()["errors"][0]
    assert error["message"].startswith("应为以下之一：") and " 或 " in error["message"]
    assert " or " not in error["message"]


def test_malformed_json_is_a_400_in_chinese(client: TestClient, auth: Token) -> None:
    answer = client.post(
        "/v1/match",
        content=b"{not json",
        headers=auth("match", **{"Content-Type": "application/json", **NO_LANGUAGE}),
    )
    assert answer.status_code == 400
    assert answer.json()["detail"] == "请求体不是有效的 JSON"


def test_a_bad_profile_in_a_batch_is_reported_in_the_callers_language(
    client: TestClient, auth: Token
) -> None:
    body = {"profiles": [FULL_PROFILE, {"county": "440703", "employees": -1}]}
    for language, text in (("zh-Hant", "應大於或等於 0"), ("en", "greater than or equal")):
        answer = client.post("/v1/match/batch", json=body, headers=auth("match", **_in(language)))
        assert answer.status_code == 200
        assert text in answer.json()["results"][1]["errors"][0]["message"]


def test_the_token_endpoint_describes_its_refusal_in_the_callers_language(
    client: TestClient,
) -> None:
    form = {"grant_type": "password"}
    answer = client.post("/v1/auth/token", data=form, headers=NO_LANGUAGE)
    body = answer.json()
    assert answer.status_code in (400, 401)
    assert body["error"] in ("unsupported_grant_type", "invalid_client")  # RFC 6749's, as is
    assert answer.headers["content-language"] == "zh-Hans"
    assert any("\u4e00" <= c <= "\u9fff" for c in body["error_description"])
    assert body["error_description"] == body["detail"]
    english = client.post("/v1/auth/token", data=form, headers={"Accept-Language": "en"})
    assert english.json()["error"] == body["error"]
    assert english.json()["error_description"].isascii()


@pytest.mark.parametrize("language", ["zh-Hans", "zh-Hant", "en"])
def test_every_answer_names_its_language(client: TestClient, auth: Token, language: str) -> None:
    asked = {"Accept-Language": language}
    for answer in (
        client.get("/healthz", headers=asked),  # 200 in no language of its own
        client.get("/openapi.json", headers=asked),
        client.get("/v1/measures", headers=asked),
        _match(client, auth, FULL_PROFILE, language),
        client.get("/v1/no-such-thing", headers=asked),  # 404
        client.delete("/v1/measures", headers=asked),  # 405
        _match(client, auth, {"county": "440703", "employees": -1}, language),  # 422
    ):
        assert answer.headers["content-language"] == language, answer.request.url


@pytest.fixture(scope="module")
def unmigrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The service on a database with no schema: its answers are 5xx."""
    url = f"sqlite:///{tmp_path_factory.mktemp('unmigrated') / 'empty.db'}"
    with serve(url) as test_client:
        yield test_client


def test_a_5xx_names_its_language_too(unmigrated: TestClient, auth: Token) -> None:
    ready = unmigrated.get("/readyz", headers=NO_LANGUAGE)
    assert ready.status_code == 503
    assert ready.headers["content-language"] == "zh-Hans"
    assert ready.json()["title"] == "尚未就绪"
    read = unmigrated.get(
        f"/v1/enterprises/{FULL_PROFILE['uscc']}",
        headers=auth("enterprises:read", **{"Accept-Language": "zh-Hant"}),
    )
    assert read.status_code == 503
    assert read.headers["content-language"] == "zh-Hant"
    assert read.json()["title"] == "服務暫不可用"
    assert "alembic upgrade head" in read.json()["detail"]


def test_an_unexpected_error_is_a_500_in_the_callers_language(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'policy_match.db'}"
    upgrade_database(url)
    app = serve(url).app

    @app.get("/boom")  # type: ignore[attr-defined, untyped-decorator]
    async def boom() -> None:
        raise RuntimeError("a fault of ours")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        answer = test_client.get("/boom", headers={"Accept-Language": "zh-Hant"})
    assert answer.status_code == 500
    assert answer.headers["content-language"] == "zh-Hant"
    assert answer.json()["title"] == "內部錯誤"


def test_quotes_are_served_in_simplified_beside_the_traditional_original(
    client: TestClient, auth: Token
) -> None:
    source = client.get("/v1/measures/loan-interest-subsidy").json()["source"]
    assert source["quote"] == ["優化對專精特新中小企業市級貸款貼息獎補政策。"]
    assert source["quote_zh_hans"] == ["优化对专精特新中小企业市级贷款贴息奖补政策。"]
    indicators = _match(client, auth, FULL_PROFILE, "en").json()["indicators"]
    patents = next(i for i in indicators if i["id"] == "invention-patents")
    assert patents["quote"] == "提高企業擁有2項以上發明專利的比例"
    assert patents["quote_zh_hans"] == "提高企业拥有2项以上发明专利的比例"
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert "quote_zh_hans" in schemas["Source"]["required"]
    assert schemas["Source"]["properties"]["quote_zh_hans"]["type"] == "array"
    assert "quote_zh_hans" in schemas["IndicatorOut"]["properties"]
