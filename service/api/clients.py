"""Clients of the development token endpoint (POLICY_MATCH_AUTH_CLIENTS) and the scopes."""

from enum import StrEnum
from functools import lru_cache

import bcrypt
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from service.core.i18n import message
from service.core.settings import Settings


class Scope(StrEnum):
    """The scopes of the contract; each grants a group of endpoints."""

    MATCH = "match"
    ENTERPRISES_READ = "enterprises:read"
    ENTERPRISES_WRITE = "enterprises:write"
    ELIGIBILITY_READ = "eligibility:read"
    PUSH = "push"
    CATALOGUE_ADMIN = "catalogue:admin"
    AUDIT_READ = "audit:read"  # ours, not the contract's: who was told what about whom
    STATS_READ = "stats:read"  # the plan's targets against the stored firms


class TokenClient(BaseModel):
    """A client of the development token endpoint, as POLICY_MATCH_AUTH_CLIENTS lists it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str = Field(min_length=1)
    secret_hash: str = Field(pattern=r"^\$2[aby]\$[0-9][0-9]\$[./A-Za-z0-9]{53}$", repr=False)
    scopes: frozenset[Scope] = Field(min_length=1)
    bank_id: str | None = None


@lru_cache(maxsize=4)
def _parse_clients(raw: str) -> dict[str, TokenClient]:
    if not raw.strip():
        return {}
    try:
        clients = TypeAdapter(list[TokenClient]).validate_json(raw)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc'])) or '$'}: {err['msg']}" for err in e.errors()
        )
        raise ValueError(f"POLICY_MATCH_AUTH_CLIENTS is not valid: {problems}") from None
    by_id = {c.client_id: c for c in clients}
    if len(by_id) != len(clients):
        raise ValueError("POLICY_MATCH_AUTH_CLIENTS lists a client_id more than once")
    return by_id


def token_clients(settings: Settings) -> dict[str, TokenClient]:
    """The development token endpoint's clients, by id (parsed once per settings value)."""
    return _parse_clients(settings.auth_clients)


def hash_client_secret(secret: str, *, rounds: int = 12) -> str:
    """The bcrypt hash to put in POLICY_MATCH_AUTH_CLIENTS for a client secret."""
    if not 16 <= len(secret.encode()) <= 72:
        raise ValueError(message("a client secret must be 16 to 72 bytes long"))
    return bcrypt.hashpw(secret.encode(), bcrypt.gensalt(rounds)).decode()


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"no such client", bcrypt.gensalt(rounds))


def authenticate_client(
    *, client_id: str, client_secret: str, settings: Settings
) -> TokenClient | None:
    """The client if the secret is its own; as slow for an unknown client as for a known one."""
    clients = token_clients(settings)
    if not clients:
        return None
    client = clients.get(client_id)
    rounds = max(int(c.secret_hash[4:6]) for c in clients.values())
    hashed = client.secret_hash.encode() if client else _dummy_hash(rounds)
    secret = client_secret.encode()
    # bcrypt reads 72 bytes at most; a longer secret was never issued, so it cannot match.
    matches = bcrypt.checkpw(secret[:72], hashed) and len(secret) <= 72
    return client if client is not None and matches else None
