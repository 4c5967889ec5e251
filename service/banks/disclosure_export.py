"""The disclosure log as a spreadsheet for auditors: one row per firm of each disclosure.

The same records and filters as GET /v1/disclosures, newest first, written long so that a sheet
filters and counts them: a disclosure that named no firm is one row with the credit code empty;
with a `uscc` filter, each disclosure naming that firm is one row (that firm's). The records
are read DISCLOSURES at a time (keyset on the id) and each one's firms FIRMS at a time from one
statement, so a record naming 100,000 firms is never held whole.
"""

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, select

from service.core.clock import utc_text
from service.core.i18n import message
from service.core.spreadsheets import Cell
from service.core.tables import DISCLOSED, DISCLOSURE

DISCLOSURES = 200
FIRMS = 5000
DISCLOSURE_COLUMNS = (
    message("Disclosure"),
    message("Disclosed at (UTC)"),
    message("Caller"),
    message("Bank"),
    message("Measure"),
    message("Eligible on"),
    message("Catalogue version"),
    message("Firms disclosed"),
    message("Unified social credit code"),
)


def disclosure_rows(
    engine: Engine,
    *,
    bank_id: str | None = None,
    measure_id: str | None = None,
    uscc: str | None = None,
) -> Iterator[list[Cell]]:
    """Every disclosure matching the filters, newest first, a row per firm it named."""
    query = select(DISCLOSURE).order_by(DISCLOSURE.c.id.desc()).limit(DISCLOSURES)
    if bank_id is not None:
        query = query.where(DISCLOSURE.c.bank_id == bank_id)
    if measure_id is not None:
        query = query.where(DISCLOSURE.c.measure_id == measure_id)
    if uscc is not None:
        named = select(DISCLOSED.c.disclosure_id).where(DISCLOSED.c.uscc == uscc)
        query = query.where(DISCLOSURE.c.id.in_(named))
    before: int | None = None
    while True:
        page = query if before is None else query.where(DISCLOSURE.c.id < before)
        with engine.connect() as connection:
            records = connection.execute(page).all()
        for record in records:
            head = _head(record)
            if uscc is not None:
                yield [*head, uscc]
                continue
            firms = _firms(engine, record.id) if record.firm_count else iter(("",))
            for firm in firms:
                yield [*head, firm]
        if len(records) < DISCLOSURES:
            return
        before = records[-1].id


def _head(record: Any) -> list[Cell]:
    return [
        record.id,
        utc_text(record.disclosed_at),
        record.caller,
        record.bank_id,
        record.measure_id,
        record.as_of.isoformat(),
        record.catalogue_version,
        record.firm_count,
    ]


def _firms(engine: Engine, disclosure_id: int) -> Iterator[str]:
    # one statement fetched FIRMS at a time (as eligible_export.disclosed_firms, and why)
    query = (
        select(DISCLOSED.c.uscc)
        .where(DISCLOSED.c.disclosure_id == disclosure_id)
        .order_by(DISCLOSED.c.uscc)
    )
    with engine.connect() as connection:
        yield from connection.execution_options(yield_per=FIRMS).execute(query).scalars()
