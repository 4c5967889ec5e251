"""The plan's text as a reader meets it: blocks in reading order (the document's head, the
section and part headings, each numbered place of service/policy/plan_text.py) and each block's
lines cut into sentences, with their offsets in the plan so a quote's place maps onto them.

A sentence ends at 。, ；/; , ！ or ？ outside brackets and quotation marks. A place's number and
title (`1.提升技術創新能力。`) is its heading and the units it closes with (`(市科技局…負責)`,
`[市工業和信息化局…]`) its note: neither is a sentence a measure can encode.
"""

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import count
from typing import Literal

from service.policy.plan_text import place_texts, simplified

SentenceKind = Literal["heading", "sentence", "note"]
BlockKind = Literal["head", "section", "part", "place"]

_ENDS = frozenset("。；;！!？?")
_OPEN, _CLOSE = "([（【《“「", ")]）】》”」"
_CLOSING_QUOTES = frozenset("”」’』")
_SECTION = re.compile(r"^[一二三四五六七八九十]+、")
_PART = re.compile(r"^\([一二三四五六七八九十]+\)")
_NUMBER = re.compile(r"^(\([一二三四五六七八九十]+\)|[1-9]\.)")
_TITLE_CHARACTERS = 16  # a place's first sentence this short after its number is its title


@dataclass(frozen=True, slots=True)
class PlanSentence:
    """One sentence of the plan: its order, where it stands, its words in both scripts."""

    number: int  # its order in the plan, from 1 (the page's anchor)
    place: str | None  # 二(二)1, 一(二) …; None outside the numbered places
    kind: SentenceKind
    start: int  # offsets of its words in the plan's text
    end: int
    text: str  # the plan's own words (Traditional script)
    zh_hans: str  # the same words in Simplified script (OpenCC, as the API serves quotes)


@dataclass(frozen=True, slots=True)
class PlanBlock:
    """A stretch of the plan: a numbered place, or the head, a section's or a part's heading."""

    place: str | None
    kind: BlockKind
    lines: tuple[tuple[PlanSentence, ...], ...]  # each line of the plan, cut into sentences

    @property
    def sentences(self) -> tuple[PlanSentence, ...]:
        """Every sentence of the block, in order."""
        return tuple(s for line in self.lines for s in line)


@lru_cache(maxsize=4)
def plan_blocks(plan: str, clauses: frozenset[str] = frozenset()) -> tuple[PlanBlock, ...]:
    """The plan in reading order, cut into blocks and sentences; `clauses` are the places whose
    first sentence is always their heading (section 二's clauses)."""
    body_end = _body_end(plan)
    spans = _place_spans(plan, body_end)
    pieces: list[tuple[str | None, BlockKind, list[tuple[int, int]]]] = []
    cursor = 0
    for place, start, end in [*spans, (None, body_end, body_end)]:
        for line in _lines(plan, cursor, start):
            kind: BlockKind = (
                "section"
                if _SECTION.match(plan[line[0] :])
                else "part"
                if _PART.match(plan[line[0] :])
                else "head"
            )
            if kind == "head" and pieces and pieces[-1][1] == "head":
                pieces[-1][2].append(line)
            else:
                pieces.append((None, kind, [line]))
        if place is not None:
            pieces.append((place, "place", _lines(plan, start, end)))
        cursor = end
    numbers = count(1)
    blocks = []
    for place, kind, lines in pieces:
        cut = [_sentences(plan, a, b, place) for a, b in lines]
        if kind in ("section", "part"):
            cut = [[replace(s, kind="heading") for s in line] for line in cut]
        if kind == "place" and cut and cut[0]:
            followed = len(cut[0]) > 1 or len(cut) > 1
            cut[0][0] = _title(cut[0][0], always=place in clauses, followed=followed)
        if kind == "place" and cut and cut[-1]:
            cut[-1][-1] = _note(cut[-1][-1])
        numbered = tuple(
            tuple(replace(s, number=next(numbers), zh_hans=simplified(s.text)) for s in line)
            for line in cut
        )
        blocks.append(PlanBlock(place, kind, numbered))
    return tuple(blocks)


def _body_end(plan: str) -> int:
    """Where the plan's words end: its first blank line (what follows is the copy's page footer)."""
    stripped = len(plan) - len(plan.lstrip())
    blank = plan.find("\n\n", stripped)
    return len(plan.rstrip()) if blank < 0 else blank


def _place_spans(plan: str, body_end: int) -> list[tuple[str, int, int]]:
    """Each numbered place and its offsets in the plan, in reading order."""
    spans = []
    for place, text in place_texts(plan).items():
        start = plan.find(text)
        if start >= 0:
            spans.append((place, start, min(start + len(text.rstrip()), body_end)))
    return sorted(spans, key=lambda span: span[1])


def _lines(plan: str, start: int, end: int) -> list[tuple[int, int]]:
    """The non-empty lines between two offsets, as offsets without their spaces."""
    lines = []
    while start < end:
        stop = plan.find("\n", start, end)
        stop = end if stop < 0 else stop
        text = plan[start:stop]
        if text.strip():
            lead = len(text) - len(text.lstrip())
            lines.append((start + lead, start + len(text.rstrip())))
        start = stop + 1
    return lines


def _sentences(plan: str, start: int, end: int, place: str | None) -> list[PlanSentence]:
    """The sentences of one line: cut at a sentence's end outside brackets and quotation marks."""
    cut, depth, begin, i = [], 0, start, start
    while i < end:
        char = plan[i]
        depth = depth + 1 if char in _OPEN else max(0, depth - 1) if char in _CLOSE else depth
        if char in _ENDS and depth == 0:
            while i + 1 < end and plan[i + 1] in _CLOSING_QUOTES:
                i += 1
            cut.append((begin, i + 1))
            begin = i + 1
        i += 1
    cut.append((begin, end))
    return [
        PlanSentence(0, place, "sentence", a, b, plan[a:b], "") for a, b in cut if plan[a:b].strip()
    ]


def _title(first: PlanSentence, *, always: bool, followed: bool) -> PlanSentence:
    """A place's first sentence is its heading when it is a clause's, or a short title."""
    number = _NUMBER.match(first.text)
    words = first.text[number.end() :] if number else first.text
    titled = number is not None and (always or (followed and len(words) <= _TITLE_CHARACTERS))
    return replace(first, kind="heading") if titled else first


def _note(last: PlanSentence) -> PlanSentence:
    """A place's last words are its note when they name the units responsible, in brackets."""
    text = last.text
    bracketed = text[:1] in "([（【" and text[-1:] in ")]）】"
    return replace(last, kind="note") if bracketed and "負責" in text else last
