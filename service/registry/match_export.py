"""The registry's matches as a spreadsheet for platform staff: every stored firm's measures.

One row per firm and measure it matches or nearly matches on the day, with the measure's clause,
kind, title and lead department in the caller's language, so that a sheet can be filtered by
county, kind or department. The firms are read FIRMS at a time in credit-code order (keyset on
the primary key, each batch on a connection of its own) and matched as GET
/v1/enterprises/{uscc}/matches matches them; nothing is held beyond one batch.
"""

from collections.abc import Iterator
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, select

from service.core.i18n import Language, message
from service.core.spreadsheets import Cell
from service.core.tables import ENTERPRISE
from service.matching.match import match
from service.policy.catalogue import Catalogue, Measure
from service.policy.profile import Profile

FIRMS = 500
MATCH_COLUMNS = (
    message("Unified social credit code"),
    message("Enterprise name"),
    message("County (city, district)"),
    message("Result"),
    message("Measure"),
    message("Clause"),
    message("Kind"),
    message("Measure title"),
    message("Lead department"),
)
MATCHED = message("matched")
NEAR_MISS = message("nearly matched")


def match_rows(
    engine: Engine,
    catalogue: Catalogue,
    day: date,
    language: Language,
    *,
    county: str | None = None,
    kind: str | None = None,
) -> Iterator[list[Cell]]:
    """Each stored firm (of `county`) with each measure (of `kind`) matched or nearly matched."""
    heads = _Heads(catalogue, language)
    for firm in _firms(engine, county):
        try:
            facts = Profile.model_validate(firm.profile).facts()
        except ValidationError:  # a vocabulary changed under a stored profile: not matchable
            continue
        result = match(catalogue=catalogue, facts=facts, as_of=day)
        named = [firm.uscc, firm.name, heads.county(firm.county)]
        for status, measure in (
            *((MATCHED, m) for m in result.matched_measures),
            *((NEAR_MISS, m) for m, _ in result.near_measures),
        ):
            if kind is None or measure.spec.kind == kind:
                yield [*named, status.translate(language), *heads.measure(measure)]


def _firms(engine: Engine, county: str | None) -> Iterator[Any]:
    e = ENTERPRISE.c
    query = (
        select(e.uscc, e.name, e.county, e.profile)
        .where(e.deleted_at.is_(None))
        .order_by(e.uscc)
        .limit(FIRMS)
    )
    if county is not None:
        query = query.where(e.county == county)
    after = ""
    while True:
        with engine.connect() as connection:
            rows = connection.execute(query.where(e.uscc > after)).all()
        yield from rows
        if len(rows) < FIRMS:
            return
        after = rows[-1].uscc


class _Heads:
    """A measure's and a county's cells in one language, worked out once per export."""

    def __init__(self, catalogue: Catalogue, language: Language) -> None:
        vocabularies = catalogue.vocabularies
        self._kinds = {k.code: k.name(language) for k in vocabularies.kinds}
        self._counties = {c.code: c.name(language) for c in vocabularies.counties}
        self._language = language
        self._measures: dict[str, list[Cell]] = {}

    def county(self, code: str) -> str:
        """The county's name."""
        return self._counties.get(code, code)

    def measure(self, measure: Measure) -> list[Cell]:
        """Measure id, clause, kind, title and lead department."""
        cells = self._measures.get(measure.measure_id)
        if cells is None:
            spec = measure.spec
            cells = self._measures[measure.measure_id] = [
                spec.measure_id,
                spec.clause,
                self._kinds.get(spec.kind, spec.kind),
                spec.title.get(self._language),
                measure.departments[0].name(self._language),
            ]
        return cells
