"""Choosing the answer's language from Accept-Language."""

import pytest

from service.core.i18n import command_language, negotiate_language


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


@pytest.mark.parametrize(
    ("given", "environ", "language"),
    [
        (None, {}, "zh-Hans"),
        (None, {"LANG": "C.UTF-8"}, "zh-Hans"),
        (None, {"LANG": "zh_CN.UTF-8"}, "zh-Hans"),
        (None, {"LANG": "zh_TW.UTF-8"}, "zh-Hant"),
        (None, {"LANG": "zh_HK"}, "zh-Hant"),
        (None, {"LANG": "en_US.UTF-8"}, "en"),
        (None, {"LANG": "zh_CN.UTF-8", "LC_ALL": "en_GB.UTF-8"}, "en"),
        (None, {"LANG": "de_DE.UTF-8"}, "zh-Hans"),
        ("zh-Hant", {"LANG": "en_US.UTF-8"}, "zh-Hant"),
        ("en", {"LANG": "zh_CN.UTF-8"}, "en"),
    ],
)
def test_the_command_line_speaks_lang_or_its_lang_option(
    given: str | None, environ: dict[str, str], language: str
) -> None:
    assert command_language(given, environ) == language
