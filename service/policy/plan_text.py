"""The plan's text cut into the clauses of section 二, so that quotes can be checked in place;
and the plan's Traditional script rendered in Simplified (OpenCC), for quotes and for checks."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

_PART = re.compile(r"^\((一|二|三)\)", re.MULTILINE)
_ITEM = re.compile(r"^([1-9])\.", re.MULTILINE)


@lru_cache(maxsize=4)
def clause_texts(plan: str) -> dict[str, str]:
    """Each clause of section 二 (`二(一)`, `二(二)1` …) and its text, lines as in the plan."""
    start, end = plan.find("二、主要任務"), plan.find("三、組織保障")
    if start < 0 or end < start:
        return {}
    section = plan[start:end]
    heads = list(_PART.finditer(section))
    clauses: dict[str, str] = {}
    for i, head in enumerate(heads):
        part = section[head.start() : heads[i + 1].start() if i + 1 < len(heads) else None]
        items = list(_ITEM.finditer(part))
        if not items:
            clauses[f"二({head.group(1)})"] = part
        for j, item in enumerate(items):
            stop = items[j + 1].start() if j + 1 < len(items) else None
            clauses[f"二({head.group(1)}){item.group(1)}"] = part[item.start() : stop]
    return clauses


_SECTION = re.compile(r"^(一|二|三)、", re.MULTILINE)


@lru_cache(maxsize=4)
def place_texts(plan: str) -> dict[str, str]:
    """Every numbered place of the plan and its text: `一(二)`, `三(三)` and the clauses of 二."""
    places: dict[str, str] = {}
    heads = list(_SECTION.finditer(plan))
    for i, head in enumerate(heads):
        if head.group(1) == "二":
            continue
        section = plan[head.start() : heads[i + 1].start() if i + 1 < len(heads) else None]
        parts = list(_PART.finditer(section))
        for j, part in enumerate(parts):
            stop = parts[j + 1].start() if j + 1 < len(parts) else None
            places[f"{head.group(1)}({part.group(1)})"] = section[part.start() : stop]
    return {**places, **clause_texts(plan)}


@lru_cache(maxsize=1)
def _t2s() -> Callable[[str], str]:
    import opencc  # its tables load once, when a quote is first converted

    convert: Callable[[str], str] = opencc.OpenCC("t2s").convert
    return convert


@lru_cache(maxsize=8192)
def simplified(text: str) -> str:
    """Traditional text in Simplified script (OpenCC t2s); each text converted once a process,
    so a catalogue's quotes cost a dict lookup after their first answer."""
    return _t2s()(text)


@dataclass(frozen=True, slots=True)
class QuoteFound:
    """Where a quote stands in the plan: the plan's own words there, and the line they start on."""

    words: str
    line: int
    in_simplified: bool  # found only when the plan and the quote were compared in Simplified


def find_quote(plan: str, quote: str) -> QuoteFound | None:
    """A quote's place in the plan: verbatim, or else written in Simplified script (the plan is
    Traditional; OpenCC's t2s maps it character for character, so the place is the same)."""
    quote = quote.strip()
    start, in_simplified = plan.find(quote), False
    if start < 0:
        converted, wanted = simplified(plan), simplified(quote)
        start = converted.find(wanted) if len(converted) == len(plan) else -1
        if start < 0:
            return None
        in_simplified = True
    words = plan[start : start + len(quote)]
    return QuoteFound(words, plan.count("\n", 0, start) + 1, in_simplified)
