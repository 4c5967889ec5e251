"""Tables. Each change of these goes with an alembic revision in migrations/versions/.

The enterprise row keeps the profile twice: as given (`profile`, JSON, so that GET returns exactly
what was stored) and as one typed column per field (NULL where the profile leaves it out), so
that an eligibility condition compiles into SQL (banks/eligibility_sql.py) and runs inside the
database. A field that the contract lets be null on purpose (`cluster`, `sub_industry`,
`tier_valid_until`) also records whether it was given: null given is a value, null absent is
unknown.
"""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, Table, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC time (SQLite gives them back without a zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _big(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_type=BigInteger, nullable=nullable)


class EnterpriseFacts(SQLModel):
    """One typed, nullable column per profile field a condition may test."""

    county: str = Field(max_length=6)
    industry_code: str | None = Field(default=None, max_length=5)
    cluster: str | None = Field(default=None, max_length=64)
    cluster_given: bool = False
    sub_industry: str | None = Field(default=None, max_length=64)
    sub_industry_given: bool = False
    tier: str | None = Field(default=None, max_length=16)
    key_little_giant: bool | None = None
    tier_valid_until: date | None = None
    tier_valid_until_given: bool = False
    employees: int | None = _big()
    revenue_cny: int | None = _big()
    profit_cny: int | None = _big()
    rd_expense_cny: int | None = _big()
    invention_patents: int | None = _big()
    trademarks: int | None = _big()
    digital_level: int | None = None
    rd_institution: str | None = Field(default=None, max_length=16)
    university_partner: bool | None = None
    fills_tech_gap: bool | None = None
    standards_role: str | None = Field(default=None, max_length=16)
    quality_award: bool | None = None
    quality_award_level: str | None = Field(default=None, max_length=16)
    listing_stage: str | None = Field(default=None, max_length=16)
    equity_board_listed: bool | None = None
    has_bank_loan: bool | None = None
    zyb_digital_loan: bool | None = None
    guaranteed_loan: bool | None = None
    tech_upgrade_project: bool | None = None
    needs_land: bool | None = None
    imports_exports: bool | None = None
    needs_talent: bool | None = None
    migrant_workers: int | None = _big()


# the columns the plan's targets (policies/targets.yaml) read, beside the tier and county
PROGRESS_COLUMNS = (
    "tier_valid_until",
    "tier_valid_until_given",
    "listing_stage",
    "rd_institution",
    "university_partner",
    "invention_patents",
    "trademarks",
    "digital_level",
    "fills_tech_gap",
    "synthetic",
)


class Enterprise(EnterpriseFacts, table=True):
    """A stored enterprise: its profile as given, its facts as columns, its current matches.

    A deleted enterprise keeps its row (with `deleted_at` set and its facts cleared from
    matching) so that its history and what was disclosed about it stay on record.
    """

    uscc: str = Field(primary_key=True, max_length=18)
    name: str | None = Field(default=None, max_length=200)
    profile: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    version: int = Field(default=1, description="1 on creation, +1 on every stored change")
    matched: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False),
        description="the measure_ids matched when last stored or re-matched",
    )
    matched_catalogue_version: str = Field(max_length=64)
    matched_on: date
    synthetic: bool = Field(default=False, description="demo data, not a real firm")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: str = Field(max_length=200)
    deleted_at: datetime | None = None

    __table_args__ = (
        Index("ix_enterprise_county", "county"),
        Index("ix_enterprise_tier", "tier"),
        # the registry's change marker: the latest updated_at (registry/measure_count.py)
        Index("ix_enterprise_updated_at", "updated_at"),
        # GET /v1/plan/progress reads only this (registry/progress.py): ranges of tier, and on
        # PostgreSQL every column its targets read included, so the table itself is not read
        Index(
            "ix_enterprise_progress",
            "tier",
            "county",
            postgresql_include=list(PROGRESS_COLUMNS),
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
    )


class EnterpriseVersion(SQLModel, table=True):
    """One stored version of a profile: who changed it, when, and to what (None: deleted)."""

    __tablename__ = "enterprise_version"

    uscc: str = Field(primary_key=True, max_length=18)
    version: int = Field(primary_key=True)
    action: str = Field(max_length=16, description="created, updated or deleted")
    profile: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    changed_by: str = Field(max_length=200)
    changed_at: datetime = Field(default_factory=utcnow)


class BankConsent(SQLModel, table=True):
    """A bank a firm has authorised to learn that it is eligible for finance measures."""

    __tablename__ = "bank_consent"

    bank_id: str = Field(primary_key=True, max_length=64)
    uscc: str = Field(primary_key=True, max_length=18, index=True)


class Disclosure(SQLModel, table=True):
    """One answer of the bank query: who asked, when, about which measure."""

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    disclosed_at: datetime = Field(default_factory=utcnow, index=True)
    caller: str = Field(max_length=200, description="the token's sub")
    bank_id: str | None = Field(default=None, max_length=64, index=True)
    measure_id: str = Field(max_length=100, index=True)
    as_of: date
    catalogue_version: str = Field(max_length=64)
    firm_count: int


class DisclosedEnterprise(SQLModel, table=True):
    """A firm named in a disclosure."""

    __tablename__ = "disclosed_enterprise"

    disclosure_id: int = Field(
        sa_column=Column(Integer, ForeignKey("disclosure.id"), primary_key=True)
    )
    uscc: str = Field(primary_key=True, max_length=18, index=True)


# --- push: the outbox, subscriptions, deliveries ---------------------------------------------


class PushEvent(SQLModel, table=True):
    """A change of a stored firm's match set, written with the change (the outbox).

    `id` orders the feed (GET /v1/push-events); `event_id` is the public id, sent as
    `webhook-id`. `document` is the event exactly as it is sent.
    """

    __tablename__ = "push_event"

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    event_id: str = Field(max_length=40, unique=True)
    type: str = Field(max_length=32, description="measure.matched or measure.unmatched")
    occurred_at: datetime = Field(default_factory=utcnow)
    uscc: str = Field(max_length=18, index=True)
    county: str = Field(max_length=6)
    measure_id: str = Field(max_length=100)
    kind: str = Field(max_length=64)
    cause: str = Field(max_length=32, description="profile_stored, enterprise_deleted, rematch")
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class PushSubscription(SQLModel, table=True):
    """Where to POST events, and which: counties and kinds (None: all)."""

    __tablename__ = "push_subscription"

    id: str = Field(primary_key=True, max_length=40)
    url: str = Field(max_length=2000)
    counties: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    kinds: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    secret: str = Field(
        max_length=400,
        description="whsec_…, sealed with PUSH_SECRET_KEYS when set: signs every delivery",
    )
    description: str | None = Field(default=None, max_length=200)
    state: str = Field(default="active", max_length=16, description="active, paused or ended")
    ended_reason: str | None = Field(default=None, max_length=300)
    ended_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=200)
    # since when its host has failed to resolve, on every attempt (None once it resolves)
    unresolved_since: datetime | None = None
    paused_at: datetime | None = None
    paused_reason: str | None = Field(default=None, max_length=300)
    # the feed position before the first event it was not delivered when paused (to catch up)
    catch_up_after: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # Capacity (service/push/capacity.py): deliveries still pending, counted from above (the
    # writers add, a worker's recount corrects), and the most that may be pending at once.
    pending_deliveries: int = Field(default=0, sa_type=BigInteger, nullable=False)
    max_pending: int = Field(default=10_000, nullable=False)
    # Events not queued because the subscription was at `max_pending`: how many in all, and
    # the latest run of them (feed positions, first and last, and when it began).
    events_not_queued: int = Field(default=0, sa_type=BigInteger, nullable=False)
    not_queued_first: int | None = _big()
    not_queued_last: int | None = _big()
    not_queued_since: datetime | None = None
    queued_since_not_queued: bool = Field(default=False, nullable=False)

    __table_args__ = (Index("ix_push_subscription_caller", "created_by", "state"),)


class PushRetention(SQLModel, table=True):
    """How far the push feed has been pruned: one row (id 1), moved by each prune.

    A feed cursor at or after `pruned_through` resumes with nothing missed; one before it is
    answered 410 Gone.
    """

    __tablename__ = "push_retention"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    pruned_through: int = Field(default=0, sa_type=BigInteger, nullable=False)
    pruned_before: datetime | None = None
    pruned_at: datetime | None = None
    events_pruned: int = Field(default=0, sa_type=BigInteger, nullable=False)


class PushDelivery(SQLModel, table=True):
    """One event to one subscription: pending until acknowledged, given up, or ended.

    A worker claims a pending delivery by moving `next_attempt_at` past the time its attempt
    can take and writing its own `claim`; a worker killed mid-attempt leaves the delivery to
    be claimed again once that time has passed. Only the claim's holder may settle it.
    """

    __tablename__ = "push_delivery"

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    event_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("push_event.id"), nullable=False, index=True)
    )
    subscription_id: str = Field(
        sa_column=Column(ForeignKey("push_subscription.id"), nullable=False)
    )
    state: str = Field(
        default="pending", max_length=16, description="pending, delivered, dead or cancelled"
    )
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claim: str | None = Field(default=None, max_length=40)
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=300)
    delivered_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)

    __table_args__ = (
        Index("ix_push_delivery_due", "state", "next_attempt_at"),
        Index("ix_push_delivery_lane", "subscription_id", "state", "next_attempt_at"),
    )


class PushAttempt(SQLModel, table=True):
    """One POST of a delivery: when, by which worker, and what came back."""

    __tablename__ = "push_attempt"

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    delivery_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("push_delivery.id"), nullable=False, index=True)
    )
    attempt: int
    worker: str = Field(max_length=100)
    started_at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=300)
    outcome: str = Field(max_length=16, description="delivered, retry, dead, gone or stale")


# --- the catalogue in force and re-matching --------------------------------------------------


class CataloguePublication(SQLModel, table=True):
    """A catalogue version put in force; the newest is the one every process serves.

    `measures` keeps, for each measure, what its events carry (clause, kind, lead department),
    so that a measure dropped from a later catalogue can still be named when firms lose it.
    """

    __tablename__ = "catalogue_publication"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    version: str = Field(max_length=64, index=True)
    published_at: datetime = Field(default_factory=utcnow)
    published_by: str = Field(max_length=200)
    measures: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class RematchRun(SQLModel, table=True):
    """A re-match of every stored firm whose matches are older than a catalogue or a day.

    Queued by a publication or by a new day; a worker claims it (`lease_until`) and records
    its progress batch by batch, so that another can finish it if the first one dies.
    """

    __tablename__ = "rematch_run"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True))
    reason: str = Field(max_length=32, description="catalogue_published or new_day")
    catalogue_version: str = Field(max_length=64)
    day: date
    state: str = Field(default="queued", max_length=16, description="queued, running or done")
    requested_by: str = Field(max_length=200)
    requested_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    lease_until: datetime | None = None
    worker: str | None = Field(default=None, max_length=100)
    firms_total: int | None = None
    firms_done: int = 0
    firms_changed: int = 0
    events: int = 0
    gained: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    lost: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


# --- spreadsheet imports over HTTP -----------------------------------------------------------


class ImportJob(SQLModel, table=True):
    """One uploaded file being imported (POST /v1/enterprises/imports): its progress and tally.

    `runner` names the process running it (host and pid) and `heartbeat_at` moves with every
    batch, so that a job whose process has gone is marked interrupted (service/registry/
    import_jobs.py). `problem` is the refusal of a failed job, its texts in every language.
    """

    __tablename__ = "import_job"

    id: str = Field(primary_key=True, max_length=40)
    client: str = Field(max_length=200, description="the token's sub: only it sees the job")
    file_name: str = Field(max_length=255)
    status: str = Field(
        default="queued",
        max_length=16,
        description="queued, running, succeeded, failed or interrupted",
    )
    language: str = Field(max_length=8, description="of the bad-rows workbook")
    rows_read: int = Field(default=0, sa_type=BigInteger, nullable=False)
    created: int = Field(default=0, sa_type=BigInteger, nullable=False)
    updated: int = Field(default=0, sa_type=BigInteger, nullable=False)
    unchanged: int = Field(default=0, sa_type=BigInteger, nullable=False)
    bad: int = Field(default=0, sa_type=BigInteger, nullable=False)
    problem: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime = Field(default_factory=utcnow)
    runner: str = Field(max_length=200)
    upload_path: str | None = Field(default=None, max_length=1000)
    result_path: str | None = Field(default=None, max_length=1000)

    __table_args__ = (
        Index("ix_import_job_client", "client", "created_at"),
        Index("ix_import_job_status", "status"),
    )


# The tables as SQLAlchemy Core handles, for the statements the service writes itself: defined
# here once, next to their models (a model's __table__ is not in its type).
ENTERPRISE: Table = Enterprise.__table__  # type: ignore[attr-defined]
VERSION: Table = EnterpriseVersion.__table__  # type: ignore[attr-defined]
CONSENT: Table = BankConsent.__table__  # type: ignore[attr-defined]
DISCLOSURE: Table = Disclosure.__table__  # type: ignore[attr-defined]
DISCLOSED: Table = DisclosedEnterprise.__table__  # type: ignore[attr-defined]
EVENT: Table = PushEvent.__table__  # type: ignore[attr-defined]
SUBSCRIPTION: Table = PushSubscription.__table__  # type: ignore[attr-defined]
RETENTION: Table = PushRetention.__table__  # type: ignore[attr-defined]
DELIVERY: Table = PushDelivery.__table__  # type: ignore[attr-defined]
ATTEMPT: Table = PushAttempt.__table__  # type: ignore[attr-defined]
PUBLICATION: Table = CataloguePublication.__table__  # type: ignore[attr-defined]
RUN: Table = RematchRun.__table__  # type: ignore[attr-defined]
IMPORT_JOB: Table = ImportJob.__table__  # type: ignore[attr-defined]
