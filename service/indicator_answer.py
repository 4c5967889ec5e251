"""The `indicators` list of a match answer, joined from remembered JSON pieces.

Each indicator's head (its words in a language) is the same for every firm, and its tail (the
firm's value and status) depends on one value only, so both are serialised once and reused, as
the rest of the answer is (service/answer.py): seven indicators add a few microseconds.
"""

from collections.abc import Mapping
from typing import Any

import orjson

from service.catalogue import Catalogue
from service.evaluator import MISSING
from service.i18n import LANGUAGES, Language
from service.indicators import Indicator

REMEMBERED = 1000  # tails remembered per indicator, before starting afresh
_FEW_VALUES = (str, bool, type(None))
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
        "sentence": indicator.sentence.get(language),
        "target": {
            "text": indicator.target_text.get(language),
            "field": target.field,
            "operator": target.operator.value,
            "value": value,
        },
        "measures": list(indicator.measures),
    }


class _IndicatorPieces:
    """One catalogue's indicators as JSON heads per language, and their tails by value."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.heads = {
            language: [
                orjson.dumps(indicator_json(i, language))[:-1] for i in catalogue.indicators
            ]
            for language in LANGUAGES
        }
        # per indicator: its tail by the value read and the language
        self.tails: list[dict[tuple[Any, Language], bytes]] = [{} for _ in catalogue.indicators]

    def body(self, facts: Mapping[str, Any], language: Language) -> bytes:
        """The members of the `indicators` list for a firm's facts, comma-joined."""
        parts = []
        for indicator, head, tails in zip(
            self.catalogue.indicators, self.heads[language], self.tails, strict=True
        ):
            actual = facts.get(indicator.target.field, MISSING)
            few = type(actual) in _FEW_VALUES or (type(actual) is int and -1000 < actual < 1000)
            tail = tails.get((actual, language)) if few else None
            if tail is None:
                status = indicator.status(facts)
                tail = b"".join(
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
                if few:
                    if len(tails) >= REMEMBERED:
                        tails.clear()
                    tails[(actual, language)] = tail
            parts.append(head + tail)
        return b",".join(parts)


_pieces: dict[str, _IndicatorPieces] = {}


def indicators_body(catalogue: Catalogue, facts: Mapping[str, Any], language: Language) -> bytes:
    """The members of a match answer's `indicators` list (without its brackets)."""
    found = _pieces.get(catalogue.version)
    if found is None or found.catalogue is not catalogue:
        if len(_pieces) > 8:
            _pieces.clear()
        found = _pieces[catalogue.version] = _IndicatorPieces(catalogue)
    return found.body(facts, language)
