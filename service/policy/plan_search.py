"""Finding the plan's sentences from a few of their words, typed in Simplified or Traditional
script, with full- or half-width punctuation and any spacing: both sides are compared in
Simplified script (OpenCC t2s), NFKC-folded, case-folded and without white space."""

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from service.policy.plan_sentences import PlanSentence
from service.policy.plan_text import simplified

MAX_QUERY_CHARACTERS = 100
MAX_FOUND = 50


@dataclass(frozen=True, slots=True)
class SentenceFound:
    """A sentence holding the words looked for, and where they stand in its text."""

    sentence: PlanSentence
    start: int
    end: int


def search_key(text: str) -> tuple[str, tuple[int, ...]]:
    """`text` folded for comparison, and the offset in `text` of each folded character."""
    folded: list[str] = []
    offsets: list[int] = []
    for i, char in enumerate(text):
        for piece in unicodedata.normalize("NFKC", char).casefold():
            if not piece.isspace():
                folded.append(piece)
                offsets.append(i)
    return "".join(folded), tuple(offsets)


@dataclass(frozen=True)
class SearchIndex:
    """The sentences of the plan, each folded once, to look words up in."""

    entries: tuple[tuple[PlanSentence, str, tuple[int, ...]], ...]

    @classmethod
    def of(cls, sentences: Iterable[PlanSentence]) -> "SearchIndex":
        """An index of `sentences`, compared in their Simplified words."""
        return cls(tuple((s, *search_key(s.zh_hans)) for s in sentences))

    def find(self, words: str, limit: int = MAX_FOUND) -> tuple[list[SentenceFound], bool]:
        """The first `limit` sentences holding `words` (Simplified or Traditional), in the plan's
        order, and whether there were more."""
        wanted, _ = search_key(simplified(words[:MAX_QUERY_CHARACTERS]))
        found: list[SentenceFound] = []
        if not wanted:
            return found, False
        for sentence, key, offsets in self.entries:
            at = key.find(wanted)
            if at < 0:
                continue
            if len(found) == limit:
                return found, True
            # Simplified and Traditional words have the same length, so offsets serve both
            found.append(SentenceFound(sentence, offsets[at], offsets[at + len(wanted) - 1] + 1))
        return found, False
