"""The enterprise registry: store, read and delete profiles, every version kept, matches current.

Writes run in one transaction each. The first statement of a store is an insert that does
nothing when the firm exists, so on PostgreSQL two concurrent first writes of one firm cannot
both create it, and on SQLite the write lock is taken at once (no read-then-write upgrade that
could fail under load). An existing row is then locked (`FOR UPDATE`; SQLite's single writer
already excludes the others) before its version is read, so concurrent writes of one firm are
applied one after another: none is lost, each gets its own version in the history.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from service.core.errors import NotFound, PreconditionFailed
from service.core.i18n import message
from service.core.tables import CONSENT, ENTERPRISE, VERSION, EnterpriseFacts, utcnow
from service.matching.match import match
from service.policy.catalogue import Catalogue
from service.policy.profile import NULLABLE_FIELDS, Profile
from service.push.outbox import MatchChange, record_match_changes

FACT_COLUMNS = tuple(name for name in EnterpriseFacts.model_fields if not name.endswith("_given"))


@dataclass(frozen=True, slots=True)
class StoredEnterprise:
    """A stored profile as given, with its version and when and by whom it was last changed."""

    uscc: str
    profile: dict[str, Any]
    version: int
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What a store did: created (or re-created after deletion), changed, and the version."""

    created: bool
    changed: bool
    stored: StoredEnterprise
    matched: tuple[str, ...]
    deliveries: int = 0  # push deliveries written for the measures gained or lost


@dataclass(frozen=True, slots=True)
class Precondition:
    """An HTTP conditional write: If-Match versions, or If-None-Match: * (create only)."""

    if_match: frozenset[int] | None = None  # None: no condition
    must_exist: bool = False  # If-Match: *
    create_only: bool = False

    def check(self, current: int | None) -> None:
        """PreconditionFailed unless the stored version (None: no such firm) satisfies it."""
        if self.must_exist and current is None:
            raise PreconditionFailed(message("If-Match: * but the enterprise is not stored"))
        if self.create_only and current is not None:
            raise PreconditionFailed(
                message(
                    "If-None-Match: * but the enterprise is stored (version {version})",
                    version=current,
                )
            )
        if self.if_match is not None and current not in self.if_match:
            raise PreconditionFailed(
                message("If-Match does not hold: the enterprise is not stored")
                if current is None
                else message(
                    "If-Match does not hold: the enterprise is at version {version}",
                    version=current,
                )
            )


NO_CONDITION = Precondition()


def fact_columns(profile: Profile) -> dict[str, Any]:
    """The typed columns of a profile: each field's value, NULL where it is not given."""
    facts = profile.facts()
    columns = {name: facts.get(name) for name in FACT_COLUMNS}
    columns.update({f"{name}_given": name in facts for name in NULLABLE_FIELDS})
    return columns


def profile_document(profile: Profile) -> dict[str, Any]:
    """The profile as stored and returned: the fields given, as JSON."""
    return profile.model_dump(mode="json", exclude_unset=True)


def matched_ids(catalogue: Catalogue, profile: Profile, day: date) -> tuple[str, ...]:
    """The measures a profile matches on `day`."""
    result = match(catalogue=catalogue, facts=profile.facts(), as_of=day)
    return tuple(m.measure_id for m in result.matched_measures)


# Statements built once, their values bound at execution: building a statement with 40 literal
# values costs more than running it.
_INSERT_IF_ABSENT = {
    name: dialect.insert(ENTERPRISE)
    .on_conflict_do_nothing(index_elements=["uscc"])
    .returning(ENTERPRISE.c.uscc)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_LOCK_CURRENT = (
    select(
        ENTERPRISE.c.version,
        ENTERPRISE.c.profile,
        ENTERPRISE.c.deleted_at,
        ENTERPRISE.c.matched,
    )
    .where(ENTERPRISE.c.uscc == bindparam("key"))
    .with_for_update()
)
_UPDATE = update(ENTERPRISE).where(ENTERPRISE.c.uscc == bindparam("key"))
_INSERT_VERSION = insert(VERSION)
_DELETE_CONSENTS = delete(CONSENT).where(CONSENT.c.uscc == bindparam("key"))
_INSERT_CONSENT = insert(CONSENT)
REFRESHED = ("matched", "matched_catalogue_version", "matched_on")  # kept by an unchanged store


def _replace_consents(connection: Connection, uscc: str, banks: list[str], fresh: bool) -> None:
    if not fresh:  # a firm (re-)created has none: deletion removed them
        connection.execute(_DELETE_CONSENTS, {"key": uscc})
    if banks:
        connection.execute(_INSERT_CONSENT, [{"bank_id": b, "uscc": uscc} for b in banks])


def firm_row(
    catalogue: Catalogue,
    profile: Profile,
    *,
    day: date,
    changed_by: str,
    synthetic: bool,
    now: datetime,
) -> dict[str, Any]:
    """The enterprise row a store writes (but its uscc, version and creation time): the typed
    columns, the profile as given and its matches on `day`."""
    return {
        **fact_columns(profile),
        "name": profile.name,
        "profile": profile_document(profile),
        "matched": list(matched_ids(catalogue, profile, day)),
        "matched_catalogue_version": catalogue.version,
        "matched_on": day,
        "synthetic": synthetic,
        "updated_at": now,
        "updated_by": changed_by,
        "deleted_at": None,
    }


@dataclass(frozen=True, slots=True)
class Transition:
    """What storing a document over a stored row does: the matches before, whether the firm is
    (re-)created or changed, its version after, and the bank consents to write (None: kept)."""

    before: list[str]
    created: bool
    changed: bool
    version: int
    consents: list[str] | None

    @property
    def action(self) -> str:
        """The history entry's action."""
        return "created" if self.created else "updated"


def first_store(profile: Profile) -> Transition:
    """Storing a firm not stored before: version 1, with its bank consents."""
    banks = sorted(set(profile.bank_consents or []))
    return Transition(before=[], created=True, changed=True, version=1, consents=banks)


def transition(current: Any, profile: Profile, document: dict[str, Any]) -> Transition:
    """Storing `profile` (as `document`) over the stored row `current` (version, profile,
    deleted_at, matched): a deleted firm is re-created, a different document is a new version."""
    deleted = current.deleted_at is not None
    created, changed = deleted, deleted or current.profile != document
    banks = sorted(set(profile.bank_consents or []))
    consented = sorted(set(current.profile.get("bank_consents") or []))
    return Transition(
        before=[] if deleted else list(current.matched),
        created=created,
        changed=changed,
        version=int(current.version) + 1 if changed else int(current.version),
        consents=banks if changed and (created or banks != consented) else None,
    )


def store_profile(
    connection: Connection,
    catalogue: Catalogue,
    profile: Profile,
    *,
    changed_by: str,
    day: date,
    condition: Precondition = NO_CONDITION,
    synthetic: bool = False,
) -> StoreResult:
    """Store a profile (it must carry its uscc) and its matches on `day`; a new version if changed.

    Storing what is already stored changes nothing but refreshes the matches. Measures gained
    or lost since the stored matches are written to the push outbox in the same transaction.
    """
    if profile.uscc is None:
        raise ValueError("a stored profile needs its uscc")
    uscc, now = profile.uscc, utcnow()
    row = firm_row(catalogue, profile, day=day, changed_by=changed_by, synthetic=synthetic, now=now)
    document, matched = row["profile"], tuple(row["matched"])
    first = {**row, "uscc": uscc, "version": 1, "created_at": now}
    if connection.execute(_INSERT_IF_ABSENT[connection.dialect.name], first).first():
        condition.check(None)
        step = first_store(profile)
    else:
        current = connection.execute(_LOCK_CURRENT, {"key": uscc}).one()
        condition.check(None if current.deleted_at is not None else current.version)
        step = transition(current, profile, document)
        values = row if step.changed else {k: row[k] for k in REFRESHED}
        if step.created:
            values = {**values, "created_at": now}
        connection.execute(_UPDATE, {**values, "version": step.version, "key": uscc})
    created, changed, version, before = step.created, step.changed, step.version, step.before
    if changed:
        connection.execute(
            _INSERT_VERSION,
            {
                "uscc": uscc,
                "version": version,
                "action": step.action,
                "profile": document,
                "changed_by": changed_by,
                "changed_at": now,
            },
        )
        if step.consents is not None:
            _replace_consents(connection, uscc, step.consents, fresh=created)
        stored = StoredEnterprise(uscc, document, version, now, changed_by)
    else:
        stored = fetch(connection, uscc)
    change = MatchChange(uscc, profile.county, before, matched)
    deliveries = record_match_changes(connection, catalogue, [change], cause="profile_stored")
    return StoreResult(created, changed, stored, matched, deliveries)


def delete_enterprise(
    connection: Connection,
    catalogue: Catalogue,
    uscc: str,
    *,
    changed_by: str,
    condition: Precondition = NO_CONDITION,
) -> int:
    """Take a firm out of matching, pushes and the bank query; its history stays. The version.

    Each measure it matched is pushed as lost (`measure.unmatched`, cause enterprise_deleted).
    """
    current = connection.execute(
        select(ENTERPRISE.c.version, ENTERPRISE.c.county, ENTERPRISE.c.matched)
        .where(ENTERPRISE.c.uscc == uscc, ENTERPRISE.c.deleted_at.is_(None))
        .with_for_update()
    ).first()
    if current is None:
        condition.check(None)
        raise NotFound(message("no enterprise {uscc} is stored", uscc=uscc))
    condition.check(current.version)
    now, version = utcnow(), int(current.version) + 1
    connection.execute(
        update(ENTERPRISE)
        .where(ENTERPRISE.c.uscc == uscc)
        .values(version=version, deleted_at=now, matched=[], updated_at=now, updated_by=changed_by)
    )
    connection.execute(
        insert(VERSION).values(
            uscc=uscc,
            version=version,
            action="deleted",
            profile=None,
            changed_by=changed_by,
            changed_at=now,
        )
    )
    connection.execute(delete(CONSENT).where(CONSENT.c.uscc == uscc))
    change = MatchChange(uscc, current.county, list(current.matched), [])
    record_match_changes(connection, catalogue, [change], cause="enterprise_deleted")
    return version


def fetch(connection: Connection, uscc: str) -> StoredEnterprise:
    """The stored (not deleted) enterprise; NotFound if there is none."""
    row = connection.execute(
        select(
            ENTERPRISE.c.profile,
            ENTERPRISE.c.version,
            ENTERPRISE.c.updated_at,
            ENTERPRISE.c.updated_by,
        ).where(ENTERPRISE.c.uscc == uscc, ENTERPRISE.c.deleted_at.is_(None))
    ).first()
    if row is None:
        raise NotFound(message("no enterprise {uscc} is stored", uscc=uscc))
    return StoredEnterprise(uscc, row.profile, row.version, row.updated_at, row.updated_by)


@dataclass(frozen=True, slots=True)
class ProfileVersion:
    """One entry of a firm's history."""

    version: int
    action: str
    profile: dict[str, Any] | None
    changed_by: str
    changed_at: datetime


def history(
    connection: Connection, uscc: str, *, after: int = 0, limit: int = 100
) -> list[ProfileVersion]:
    """The versions of a firm's profile after version `after`, oldest first; NotFound if none."""
    rows = connection.execute(
        select(
            VERSION.c.version,
            VERSION.c.action,
            VERSION.c.profile,
            VERSION.c.changed_by,
            VERSION.c.changed_at,
        )
        .where(VERSION.c.uscc == uscc, VERSION.c.version > after)
        .order_by(VERSION.c.version)
        .limit(limit)
    ).all()
    if not rows and after == 0:
        raise NotFound(message("no enterprise {uscc} has ever been stored", uscc=uscc))
    return [ProfileVersion(*row) for row in rows]
