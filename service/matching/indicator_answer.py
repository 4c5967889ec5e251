"""The `indicators` list of a match answer, joined from remembered JSON pieces.

Each indicator's head (its words in a language) is the same for every firm, and the rest (the
firm's value and status) depends on one value only: the whole list is remembered by the values
of the few fields the indicators read, and kept with the rest of a catalogue's remembered
pieces (service/matching/answer.py).
"""

from collections.abc import Mapping
from typing import Any

import orjson

from service.core.i18n import LANGUAGES, Language
from service.policy.catalogue import Catalogue
from service.policy.evaluator import MISSING
from service.policy.indicators import Indicator
from service.policy.plan_text import simplified

REMEMBERED = 4096  # lists remembered (about 3 KB each), before starting afresh
STATUS_TEXT: dict[Language, dict[str, str]] = {
    "zh-Hans": {"met": "已达到", "not_met": "未达到", "unknown": "未知：档案未提供该项"},
    "zh-Hant": {"met": "已達到", "not_met": "未達到", "unknown": "未知：檔案未提供該項"},
    "en": {"met": "met", "not_met": "not met", "unknown": "unknown: the profile does not say"},
}


def indicator_json(indicator: Indicator, language: Language) -> dict[str, Any]:
    """An indicator as the answer shows it, without the firm's value and status."""
    target = indicator.target
    value = list(target.value) if isinstance(target.value, tuple) else target.value
    return {
        "id": indicator.id,
        "title": indicator.title.get(language),
        "clause": indicator.clause,
        "quote": indicator.quote,
        "quote_zh_hans": simplified(indicator.quote),
        "sentence": indicator.sentence.get(language),
        "target": {
            "text": indicator.target_text.get(language),
            "field": target.field,
            "operator": target.operator.value,
            "value": value,
        },
        "measures": list(indicator.measures),
    }


class IndicatorPieces:
    """One catalogue's indicators as JSON heads per language, and their tails by value."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.heads = {
            language: [orjson.dumps(indicator_json(i, language))[:-1] for i in catalogue.indicators]
            for language in LANGUAGES
        }
        self.fields = tuple(dict.fromkeys(i.target.field for i in catalogue.indicators))
        self.bodies: dict[tuple[Any, ...], bytes] = {}  # by language and the values read

    def body(self, facts: Mapping[str, Any], language: Language) -> bytes:
        """The members of the `indicators` list for a firm's facts, comma-joined.

        Remembered whole by the values of the fields the indicators read: firms repeat them.
        """
        get = facts.get
        key = (language, *[get(field, MISSING) for field in self.fields])
        body = self.bodies.get(key)
        if body is None:
            body = b",".join(
                head + self._tail(indicator, facts, language)
                for indicator, head in zip(
                    self.catalogue.indicators, self.heads[language], strict=True
                )
            )
            if len(self.bodies) >= REMEMBERED:
                self.bodies.clear()
            self.bodies[key] = body
        return body

    @staticmethod
    def _tail(indicator: Indicator, facts: Mapping[str, Any], language: Language) -> bytes:
        actual = facts.get(indicator.target.field, MISSING)
        status = indicator.status(facts)
        return b"".join(
            (
                b',"actual":',
                b"null" if actual is MISSING else orjson.dumps(actual),
                b',"status":"',
                status.encode(),
                b'","status_text":',
                orjson.dumps(STATUS_TEXT[language][status]),
                b"}",
            )
        )
