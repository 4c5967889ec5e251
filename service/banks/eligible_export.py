"""The bank query as one spreadsheet: every eligible firm at once, recorded as one disclosure.

record_export() writes the disclosure and its firms in one transaction, the firms chosen inside
the database by the very query that answers the pages (INSERT … SELECT: nothing is held in
Python however many firms there are); the caller commits it before a byte of the file is sent.
disclosed_firms() then reads those firms back in credit-code order, BATCH at a time from one
statement, so the file shows exactly what the record says was shown. An export that finds no
firm is recorded too: the bank learned that none is eligible.
"""

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, literal, select, update

from service.banks.eligibility_sql import eligible_query
from service.core.i18n import Language, message
from service.core.spreadsheets import Cell
from service.core.tables import DISCLOSED, DISCLOSURE, ENTERPRISE, utcnow
from service.policy.catalogue import Catalogue, Measure
from service.policy.vocabulary import Vocabularies

BATCH = 2000
# the four fields a bank sees, as a spreadsheet's headers (translated when written)
ELIGIBLE_COLUMNS = (
    message("Unified social credit code"),
    message("Enterprise name"),
    message("County (city, district)"),
    message("Tier"),
)


def record_export(
    connection: Connection,
    catalogue: Catalogue,
    measure: Measure,
    day: date,
    *,
    caller: str,
    bank_id: str | None,
) -> tuple[int, int]:
    """Record every firm eligible (and, for a bank, consenting) as one disclosure: its id and
    how many firms it names."""
    disclosure_id = connection.execute(
        insert(DISCLOSURE)
        .values(
            disclosed_at=utcnow(),
            caller=caller,
            bank_id=bank_id,
            measure_id=measure.measure_id,
            as_of=day,
            catalogue_version=catalogue.version,
            firm_count=0,
        )
        .returning(DISCLOSURE.c.id)
    ).scalar_one()
    every = eligible_query(catalogue, measure, day, bank_id=bank_id, after=None, limit=None)
    eligible = every.order_by(None).subquery()  # rows of a table need no order (nor a sort)
    connection.execute(
        insert(DISCLOSED).from_select(
            ["disclosure_id", "uscc"], select(literal(disclosure_id), eligible.c.uscc)
        )
    )
    # counted, not taken from rowcount: psycopg reports -1 for an INSERT … SELECT here
    named = connection.execute(
        select(func.count()).where(DISCLOSED.c.disclosure_id == disclosure_id)
    ).scalar_one()
    connection.execute(
        update(DISCLOSURE).where(DISCLOSURE.c.id == disclosure_id).values(firm_count=named)
    )
    return int(disclosure_id), int(named)


def disclosed_firms(engine: Engine, disclosure_id: int) -> Iterator[Any]:
    """The firms a disclosure names (uscc, name, county, tier), in credit-code order, fetched
    BATCH at a time from one statement (a server-side cursor on PostgreSQL)."""
    # one statement, not keyset batches: a fresh record is in no planner statistics yet, so
    # PostgreSQL reads each batch by scanning and sorting every remaining code (quadratic)
    query = (
        select(DISCLOSED.c.uscc, ENTERPRISE.c.name, ENTERPRISE.c.county, ENTERPRISE.c.tier)
        .select_from(DISCLOSED.outerjoin(ENTERPRISE, ENTERPRISE.c.uscc == DISCLOSED.c.uscc))
        .where(DISCLOSED.c.disclosure_id == disclosure_id)
        .order_by(DISCLOSED.c.uscc)
    )
    with engine.connect() as connection:
        yield from connection.execution_options(yield_per=BATCH).execute(query)


def eligible_rows(
    firms: Iterator[Any], vocabularies: Vocabularies, language: Language
) -> Iterator[list[Cell]]:
    """Each firm as a spreadsheet row: credit code, name, and county and tier by name."""
    counties = {c.code: c.name(language) for c in vocabularies.counties}
    tiers = {t.code: t.name(language) for t in vocabularies.tiers}
    for firm in firms:
        yield [
            firm.uscc,
            firm.name,
            counties.get(firm.county, firm.county),
            tiers.get(firm.tier, firm.tier),
        ]
