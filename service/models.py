"""Tables. Each change of these goes with an alembic revision in migrations/versions/."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from service.profile import Profile


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


class EnterpriseBase(SQLModel):
    """The columns the registry filters on; the whole profile is kept in `profile`."""

    uscc: str = Field(primary_key=True, max_length=18)
    name: str | None = Field(default=None, max_length=200)
    county: str = Field(index=True, max_length=6)
    tier: str | None = Field(default=None, index=True, max_length=16)


class Enterprise(EnterpriseBase, table=True):
    """A stored enterprise profile."""

    profile: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    synthetic: bool = Field(default=False, description="demo data, not a real firm")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @classmethod
    def from_profile(cls, profile: Profile, *, synthetic: bool = False) -> "Enterprise":
        """The row for a validated profile that carries its credit code."""
        if profile.uscc is None:
            raise ValueError("a stored profile needs its uscc")
        return cls(
            uscc=profile.uscc,
            name=profile.name,
            county=profile.county,
            tier=profile.tier,
            profile=profile.model_dump(mode="json", exclude_unset=True),
            synthetic=synthetic,
        )
