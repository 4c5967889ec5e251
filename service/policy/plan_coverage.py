"""Which measures encode which sentence of the plan, and how much of each clause is encoded.

A measure encodes every sentence its quotes overlap (a quote is a sentence of its clause, or
several, or part of one; `policy-match check` holds it verbatim to the clause). Computed once per
catalogue, keyed on its version and its plan text, so a page of the plan is a lookup.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from threading import Lock
from types import MappingProxyType

from service.policy.catalogue import Catalogue
from service.policy.plan_search import SearchIndex
from service.policy.plan_sentences import PlanBlock, PlanSentence, plan_blocks
from service.policy.plan_text import find_quote


@dataclass(frozen=True, slots=True)
class ClauseCoverage:
    """How many of a clause's sentences (heading and note aside) some measure encodes."""

    clause: str
    encoded: int
    total: int


@dataclass(frozen=True)
class PlanCoverage:
    """The plan cut into sentences, the measures quoting each, and each clause's coverage."""

    version: str
    blocks: tuple[PlanBlock, ...]
    measures_of: Mapping[int, tuple[str, ...]]  # sentence number -> measures, catalogue order
    clauses: Mapping[str, ClauseCoverage]  # section 二's clauses, in the plan's order
    unplaced: tuple[tuple[str, str], ...]  # (measure id, quote) found nowhere in the plan
    index: SearchIndex

    @property
    def encoded(self) -> int:
        """Sentences of the clauses that some measure encodes."""
        return sum(c.encoded for c in self.clauses.values())

    @property
    def total(self) -> int:
        """Sentences of the clauses (headings and notes of responsible units aside)."""
        return sum(c.total for c in self.clauses.values())


_CACHE: dict[tuple[str, int], PlanCoverage] = {}
_CACHE_LOCK = Lock()


def plan_coverage(catalogue: Catalogue) -> PlanCoverage:
    """The catalogue's coverage of the plan, computed once per catalogue version and plan."""
    key = (catalogue.version, hash(catalogue.plan_text))
    cached = _CACHE.get(key)
    if cached is None:
        cached = build_coverage(catalogue)
        with _CACHE_LOCK:
            while len(_CACHE) >= 4:  # the catalogue in force and the few published before it
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = cached
    return cached


def build_coverage(catalogue: Catalogue) -> PlanCoverage:
    """Cut the catalogue's plan into sentences and find the measures quoting each."""
    plan = catalogue.plan_text
    blocks = plan_blocks(plan, frozenset(catalogue.clauses))
    places = {b.place: b.sentences for b in blocks if b.place is not None and b.sentences}
    sentences = [s for b in blocks for s in b.sentences]
    quoting: dict[int, list[str]] = {}
    unplaced = []
    for measure in catalogue.measures:
        for quote in measure.spec.source.quote:
            span = _quote_span(plan, quote, places.get(measure.spec.clause, ()))
            if span is None:
                unplaced.append((measure.measure_id, quote))
                continue
            for sentence in sentences:
                if _overlaps(plan, sentence, *span):
                    mine = quoting.setdefault(sentence.number, [])
                    if measure.measure_id not in mine:
                        mine.append(measure.measure_id)
    measures_of = {number: tuple(ids) for number, ids in quoting.items()}
    clauses = {
        b.place: _clause_coverage(b, measures_of)
        for b in blocks
        if b.place is not None and b.place in catalogue.clauses
    }
    return PlanCoverage(
        version=catalogue.version,
        blocks=blocks,
        measures_of=MappingProxyType(measures_of),
        clauses=MappingProxyType(clauses),
        unplaced=tuple(unplaced),
        index=SearchIndex.of(sentences),
    )


def quoted_by(coverage: PlanCoverage, sentence: PlanSentence) -> tuple[str, ...]:
    """The measures that quote `sentence`, in the catalogue's order (none: it is not encoded)."""
    return coverage.measures_of.get(sentence.number, ())


def _quote_span(plan: str, quote: str, clause: tuple[PlanSentence, ...]) -> tuple[int, int] | None:
    """Where a quote stands: in its clause when it is there, else anywhere in the plan."""
    quote = quote.strip()
    if clause:
        start = plan.find(quote, clause[0].start, clause[-1].end)
        if start >= 0:
            return start, start + len(quote)
    found = find_quote(plan, quote)  # elsewhere, or written in Simplified script
    if found is None:
        return None
    start = plan.find(found.words)
    return start, start + len(found.words)


def _overlaps(plan: str, sentence: PlanSentence, start: int, end: int) -> bool:
    """Whether a quote at `start:end` shares words (not just punctuation) with `sentence`."""
    shared = plan[max(start, sentence.start) : min(end, sentence.end)]
    return any(char.isalnum() for char in shared)


def _clause_coverage(
    block: PlanBlock, measures_of: Mapping[int, tuple[str, ...]]
) -> ClauseCoverage:
    """A clause's sentences and how many of them are encoded."""
    counted = [s for s in block.sentences if s.kind == "sentence"]
    encoded = sum(1 for s in counted if s.number in measures_of)
    return ClauseCoverage(block.place or "", encoded, len(counted))
