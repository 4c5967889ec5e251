"""The console's language: `?lang=`, else the `console_lang` cookie, else Accept-Language."""

from collections.abc import Callable

from fastapi import Request

from service.core.i18n import LANGUAGES, Language, message, negotiate_language, translate

LANGUAGE_COOKIE = "console_lang"
LANGUAGE_NAMES: dict[Language, str] = {
    "zh-Hans": "简体中文",
    "zh-Hant": "繁體中文",
    "en": "English",
}


def known_language(tag: str | None) -> Language | None:
    """One of our languages when `tag` names it exactly, else None."""
    return next((known for known in LANGUAGES if known == tag), None)


def console_language(request: Request) -> Language:
    """The language a console page is written in for this request."""
    return (
        known_language(request.query_params.get("lang"))
        or known_language(request.cookies.get(LANGUAGE_COOKIE))
        or negotiate_language(request.headers.get("accept-language"))
    )


def gettext_for(language: Language) -> Callable[..., str]:
    """The `_` of a template: `_("English msgid", name=value)` in `language`."""

    def gettext(msgid: str, **params: object) -> str:
        return str(translate(message(msgid, **params), language))

    return gettext
