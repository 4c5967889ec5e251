"""Choosing the answer's language from Accept-Language."""

import pytest

from service.core.i18n import negotiate_language


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh-Hans"),
        ("", "zh-Hans"),
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("zh-Hant", "zh-Hant"),
        ("zh-Hant-MO", "zh-Hant"),
        ("zh-Hant-CN", "zh-Hant"),
        ("zh-TW", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-CN", "zh-Hans"),
        ("zh", "zh-Hans"),
        ("fr, en;q=0.5", "en"),
        ("en;q=0.4, zh-Hant;q=0.8", "zh-Hant"),
        ("de", "zh-Hans"),
        ("en;q=0", "zh-Hans"),
        ("zh-Hant;q=garbage", "zh-Hans"),
    ],
)
def test_accept_language_picks_one_of_our_three(header: str | None, language: str) -> None:
    assert negotiate_language(header) == language
