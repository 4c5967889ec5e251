"""The three languages the API speaks, picking one from Accept-Language, and lazy messages.

Errors are raised deep in the code, where no request is at hand: they carry a `Message` (the
English text as its gettext msgid, and its parameters), translated only when the answer is
written, in the language Accept-Language picked. The catalogues are the .po files under
service/core/locale (service/core/translations.py reads them); `en` is the msgid itself.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

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


def command_language(given: str | None, environ: Mapping[str, str]) -> Language:
    """The language of the command line's messages: `--lang` when given, else the POSIX locale
    (LC_ALL, LC_MESSAGES, LANG: `zh_CN.UTF-8`, `zh_TW`, `en_US`), else zh-Hans."""
    for value in (given, *(environ.get(name) for name in ("LC_ALL", "LC_MESSAGES", "LANG"))):
        tag = (value or "").split(".")[0].split("@")[0].replace("_", "-").lower()
        language = _language_of(tag) if tag and tag not in ("c", "posix") else None
        if language:
            return language
    return DEFAULT_LANGUAGE


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


@dataclass(frozen=True, slots=True)
class Message:
    """A text to translate when answered: its msgid (the English, `{name}` placeholders) and
    parameters (each a plain value, or a Message translated in the same language)."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def translate(self, language: Language) -> str:
        """The text in `language` (a missing translation falls back to the English)."""
        from service.core.translations import translation  # the catalogues, read once

        template = self.msgid if language == "en" else translation(language, self.msgid)
        # always formatted, so `{{` in a msgid is a brace whether or not it has parameters
        return template.format(**{k: translate(v, language) for k, v in self.params.items()})

    def __str__(self) -> str:
        return self.translate("en")


@dataclass(frozen=True, slots=True)
class Joined:
    """Texts joined by a separator, each translated in the answer's language."""

    parts: tuple["Text", ...]
    separator: str = "; "

    def translate(self, language: Language) -> str:
        """The parts in `language`, joined."""
        return self.separator.join(translate(part, language) for part in self.parts)

    def __str__(self) -> str:
        return self.translate("en")


Text = str | Message | Joined


def message(msgid: str, **params: Any) -> Message:
    """A message to translate later; `msgid` is the English with `{name}` placeholders."""
    return Message(msgid, params)


def joined(parts: Iterable[Text], separator: str = "; ") -> Joined:
    """Several texts as one, joined by `separator`, translated part by part."""
    return Joined(tuple(parts), separator)


def translate(text: Any, language: Language) -> Any:
    """`text` in `language` when it is a Message (or Joined); anything else as it is."""
    if isinstance(text, Message | Joined):
        return text.translate(language)
    return text
