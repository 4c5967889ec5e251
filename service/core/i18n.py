"""The three languages the API speaks, and picking one from Accept-Language."""

from functools import lru_cache
from typing import Literal

Language = Literal["zh-Hans", "zh-Hant", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-Hans", "zh-Hant", "en")
DEFAULT_LANGUAGE: Language = "zh-Hans"


@lru_cache(maxsize=512)
def negotiate_language(accept_language: str | None) -> Language:
    """The best of our languages for an Accept-Language header (RFC 9110 weights honoured)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, Language]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        language = _language_of(tag.strip().lower())
        if language and weight > 0:
            ranked.append((-weight, position, language))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def _language_of(tag: str) -> Language | None:
    """Ours for one language tag: the script subtag decides, then the region, then `zh`/`en`."""
    parts = tag.split("-")
    if parts[0] == "en":
        return "en"
    if parts[0] != "zh":
        return "zh-Hans" if tag == "*" else None
    if "hant" in parts or any(p in ("tw", "hk", "mo") for p in parts[1:]):
        return "zh-Hant"
    return "zh-Hans"
