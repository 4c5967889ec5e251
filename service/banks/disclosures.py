"""The record of what the bank query disclosed: who asked, when, about which measure, which firms.

A disclosure is recorded, and committed, before its answer is sent: a failure to record is a
failure to answer. Deleting an enterprise leaves these records alone.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from service.core.clock import utc_text
from service.core.tables import DISCLOSED, DISCLOSURE, utcnow


@dataclass(frozen=True, slots=True)
class DisclosureRecord:
    """One recorded answer of the bank query."""

    disclosure_id: int
    disclosed_at: datetime
    caller: str
    bank_id: str | None
    measure_id: str
    as_of: date
    catalogue_version: str
    enterprises: list[str]

    def as_json(self) -> dict[str, Any]:
        """The record as the audit listing answers it."""
        return {
            "disclosure_id": self.disclosure_id,
            "disclosed_at": utc_text(self.disclosed_at),
            "caller": self.caller,
            "bank_id": self.bank_id,
            "measure_id": self.measure_id,
            "as_of": self.as_of.isoformat(),
            "catalogue_version": self.catalogue_version,
            "enterprises": self.enterprises,
        }


def record_disclosure(
    connection: Connection,
    *,
    caller: str,
    bank_id: str | None,
    measure_id: str,
    as_of: date,
    catalogue_version: str,
    usccs: list[str],
) -> int:
    """Record that `caller` was told these firms are eligible; the disclosure's id."""
    disclosure_id = connection.execute(
        insert(DISCLOSURE)
        .values(
            disclosed_at=utcnow(),
            caller=caller,
            bank_id=bank_id,
            measure_id=measure_id,
            as_of=as_of,
            catalogue_version=catalogue_version,
            firm_count=len(usccs),
        )
        .returning(DISCLOSURE.c.id)
    ).scalar_one()
    if usccs:
        connection.execute(
            insert(DISCLOSED), [{"disclosure_id": disclosure_id, "uscc": u} for u in usccs]
        )
    return int(disclosure_id)


def list_disclosures(
    connection: Connection,
    *,
    bank_id: str | None = None,
    measure_id: str | None = None,
    uscc: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[DisclosureRecord]:
    """Disclosures matching every filter given, newest first, those before id `before`."""
    query = select(DISCLOSURE).order_by(DISCLOSURE.c.id.desc()).limit(limit)
    if bank_id is not None:
        query = query.where(DISCLOSURE.c.bank_id == bank_id)
    if measure_id is not None:
        query = query.where(DISCLOSURE.c.measure_id == measure_id)
    if uscc is not None:
        named = select(DISCLOSED.c.disclosure_id).where(DISCLOSED.c.uscc == uscc)
        query = query.where(DISCLOSURE.c.id.in_(named))
    if before is not None:
        query = query.where(DISCLOSURE.c.id < before)
    rows = connection.execute(query).all()
    firms: dict[int, list[str]] = {row.id: [] for row in rows}
    if firms:
        for disclosure_id, firm in connection.execute(
            select(DISCLOSED.c.disclosure_id, DISCLOSED.c.uscc)
            .where(DISCLOSED.c.disclosure_id.in_(list(firms)))
            .order_by(DISCLOSED.c.uscc)
        ):
            firms[disclosure_id].append(firm)
    return [
        DisclosureRecord(
            row.id,
            row.disclosed_at,
            row.caller,
            row.bank_id,
            row.measure_id,
            row.as_of,
            row.catalogue_version,
            firms[row.id],
        )
        for row in rows
    ]
