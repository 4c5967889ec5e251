"""Settings: one flat class, read from POLICY_MATCH_* environment variables or a .env file."""

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER_SECRET = "change-me-development-only"
LEASE_MARGIN = 1.5  # a claim's lease is at least this many attempt deadlines

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(raw: str) -> tuple[Network, ...]:
    """The CIDR ranges of a comma-separated list; ValueError naming the entry that is not one."""
    networks = []
    for entry in (e.strip() for e in raw.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"POLICY_MATCH_METRICS_ALLOW_FROM: {entry!r} is not an address or CIDR range"
            ) from None
    return tuple(networks)


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="POLICY_MATCH_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./policy_match.db"
    policies_dir: Path = PROJECT_ROOT / "policies"
    # The service's address as callers reach it (https://gateway.example/policy-match), given to
    # the OpenAPI document's `servers`; unset: no `servers`, paths are relative to the document
    public_url: str | None = None

    jwt_secret: SecretStr | None = SecretStr(PLACEHOLDER_SECRET)
    jwt_public_key: str | None = None
    jwt_private_key: SecretStr | None = None
    jwt_audience: str = "policy-match"
    jwt_issuer: str | None = None
    # Tokens from an identity provider: its JWK set, keys picked by `kid` (RS256 or ES256 only).
    # Set, it is the only way tokens verify: the secret and the public key are not used.
    jwt_jwks_url: str | None = None
    token_ttl_seconds: int = Field(default=3600, ge=60, le=86_400)
    # Development token endpoint clients: JSON list of
    # {"client_id", "secret_hash" (bcrypt), "scopes": [...], "bank_id"?}.
    auth_clients: str = ""
    enable_token_endpoint: bool = True
    # Where Swagger UI's Authorize asks for tokens: ours in development, the provider's otherwise
    oauth_token_url: str = "/v1/auth/token"

    # The staff console (/console/): pages 1–4 (plan, measures, calculator, progress) are open
    # unless this is false, when they too need a signed-in session
    console_public: bool = True
    # The key console session cookies are signed with; unset: derived from the JWT secret
    console_session_secret: SecretStr | None = None
    console_session_seconds: int = Field(default=8 * 3600, ge=60, le=86_400)
    # Console sign-in with the government identity provider (OpenID Connect, authorization code
    # with PKCE; service/api/oidc.py). Set the issuer (its discovery document is read from
    # <issuer>/.well-known/openid-configuration unless the discovery URL is given), this
    # service's client id and its callback URL (…/console/sign-in/callback). The access token
    # it issues is verified as a bearer token of the API is (POLICY_MATCH_JWT_JWKS_URL …).
    oidc_issuer: str | None = None
    oidc_discovery_url: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None  # none: a public client (PKCE alone)
    oidc_redirect_url: str | None = None
    oidc_scopes: str = "openid"

    uscc_allowlist: frozenset[str] = frozenset()
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # the request line and headers together (policy-match serve answers 431 past it)
    max_header_bytes: int = Field(default=65_536, ge=4096, le=1_048_576)
    # Addresses or networks (comma-separated) of the reverse proxies whose X-Forwarded-For and
    # X-Forwarded-Proto are believed; none by default: the peer's own address is the client's
    trusted_proxies: str = ""
    max_batch_size: int = Field(default=1000, ge=1, le=10_000)
    # An imported workbook (policy-match import, POST /v1/enterprises/imports): its zip may
    # declare at most this many bytes uncompressed, and a sheet may hold at most this many rows
    import_max_uncompressed_bytes: int = Field(default=200_000_000, ge=1_000_000)
    import_max_rows: int = Field(default=1_000_000, ge=10, le=1_048_576)

    # Logs: JSON lines on stdout (service/core/logs.py); off, the host's logging setup stays (tests)
    log_json: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # GET /metrics for Prometheus (service/api/metrics.py); keep it off the public gateway
    metrics_enabled: bool = True
    # The database gauges are read in the background this often, never at scrape time
    metrics_refresh_seconds: float = Field(default=15.0, gt=0, le=3600)
    # Who may scrape (service/api/metrics_guard.py): a bearer token, and/or peers in these CIDR
    # ranges (comma-separated). Neither set: open, as before.
    metrics_token: SecretStr | None = None
    metrics_allow_from: str = ""

    # Per-caller budgets (`limits` notation, "none" for no limit; see service/api/ratelimit.py).
    # Matching counts profiles (a batch spends one per profile); the bank query counts pages.
    rate_limit_match: str = "6000/minute"
    rate_limit_bank_query: str = "600/minute"
    # GET /v1/plan/progress reads a third of the registry's index per call (~0.3 s at 1M firms)
    rate_limit_plan_progress: str = "60/minute"
    rate_limit_storage: str = "memory://"
    # PostgreSQL cancels a statement running longer than this (0: never); answered as 503
    database_statement_timeout_ms: int = Field(default=10_000, ge=0)

    # Push (see service/push/). The run command starts a worker inside the service;
    # `policy-match worker` runs more, in processes of their own.
    push_worker_in_process: bool = True
    # Loopback, link-local and cloud metadata targets are refused unless this allows them
    # (tests and a receiver on the same host); private ranges are always allowed.
    push_allow_internal_targets: bool = False
    # one deadline for a whole attempt: resolve, connect, send, read the answer
    push_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    push_max_attempts: int = Field(default=10, ge=1, le=50)
    push_backoff_base_seconds: float = Field(default=5.0, gt=0)
    push_backoff_cap_seconds: float = Field(default=3600.0, gt=0)
    push_batch_size: int = Field(default=100, ge=1, le=1000)
    push_concurrency: int = Field(default=32, ge=1, le=256)
    # POSTs in flight to one subscription: a receiver is not flooded by one busy worker
    push_concurrency_per_target: int = Field(default=8, ge=1, le=256)
    push_poll_seconds: float = Field(default=1.0, gt=0)
    # a claimed delivery is claimed again after this long (a worker that died mid-attempt)
    push_lease_seconds: float = Field(default=60.0, gt=0)
    # Fernet keys, comma-separated: subscription secrets are stored sealed with the first and
    # opened with any (rotation). Required in production; without it they are stored as given.
    push_secret_keys: SecretStr | None = None
    # HMAC keys for page cursors, comma-separated, 16 characters or more each: the first signs,
    # every one verifies (rotation). Unset: derived from the JWT secret (service/core/cursors.py)
    cursor_keys: SecretStr | None = None
    # CA certificates (PEM file) receivers' certificates are verified with; default certifi's
    push_ca_file: Path | None = None
    # a host's name resolution waits this long at most, at subscription and at each delivery;
    # a host not resolved in time is unresolved now (service/push/lookup.py)
    push_resolve_timeout_seconds: float = Field(default=2.0, gt=0, le=10.0)
    # a subscription whose host has not resolved for this long is paused (not fed) until resumed
    push_unresolved_pause_seconds: float = Field(default=86_400.0, gt=0)
    # Capacity (service/push/capacity.py): subscriptions one caller (token `sub`) may hold,
    # not counting ended ones; deliveries one subscription may have pending (past it, events
    # are not queued for it and it catches up from the feed); and how long events, their
    # deliveries and attempts are kept (service/push/retention.py).
    push_max_subscriptions_per_caller: int = Field(default=20, ge=1, le=10_000)
    push_max_pending_per_subscription: int = Field(default=10_000, ge=1, le=10_000_000)
    push_retention_days: int = Field(default=90, ge=1, le=3650)
    rematch_batch_size: int = Field(default=500, ge=1, le=10_000)
    catalogue_check_seconds: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _metrics_ranges_are_cidrs(self) -> "Settings":
        parse_networks(self.metrics_allow_from)  # ValueError names the bad entry
        return self

    @model_validator(mode="after")
    def _token_urls_are_urls(self) -> "Settings":
        url = self.jwt_jwks_url
        if url is not None:
            scheme = url.partition("://")[0].lower()
            if scheme not in ("http", "https") or not url.partition("://")[2].strip("/"):
                raise ValueError("POLICY_MATCH_JWT_JWKS_URL must be an http(s) URL")
            if self.environment == "production" and scheme != "https":
                # whoever can rewrite the key set can sign tokens: only over TLS in production
                raise ValueError("POLICY_MATCH_JWT_JWKS_URL must be https in production")
        if not self.oauth_token_url.startswith(("/", "http://", "https://")):
            raise ValueError(
                "POLICY_MATCH_OAUTH_TOKEN_URL must be a path on this service or an http(s) URL"
            )
        return self

    @model_validator(mode="after")
    def _oidc_is_complete(self) -> "Settings":
        if self.oidc_client_id is None:
            return self
        if not (self.oidc_issuer and self.oidc_redirect_url):
            raise ValueError(
                "POLICY_MATCH_OIDC_CLIENT_ID is set: POLICY_MATCH_OIDC_ISSUER and "
                "POLICY_MATCH_OIDC_REDIRECT_URL must be set too"
            )
        for name in ("oidc_issuer", "oidc_discovery_url", "oidc_redirect_url"):
            url = getattr(self, name)
            if url is None:
                continue
            scheme = url.partition("://")[0].lower()
            if scheme not in ("http", "https") or (
                self.environment == "production" and scheme != "https"
            ):
                raise ValueError(
                    f"POLICY_MATCH_{name.upper()} must be an https URL (http outside production)"
                )
        if "openid" not in self.oidc_scopes.split():
            raise ValueError("POLICY_MATCH_OIDC_SCOPES must include openid")
        return self

    @model_validator(mode="after")
    def _lease_outlasts_an_attempt(self) -> "Settings":
        if self.push_lease_seconds < LEASE_MARGIN * self.push_timeout_seconds:
            raise ValueError(
                f"POLICY_MATCH_PUSH_LEASE_SECONDS must be at least {LEASE_MARGIN:g} × "
                "PUSH_TIMEOUT_SECONDS (the whole attempt's deadline), with a margin for "
                "settling and clocks: a delivery still being attempted would be claimed again"
            )
        return self

    @model_validator(mode="after")
    def _cursor_keys_are_long_enough(self) -> "Settings":
        if self.cursor_keys is not None:
            keys = [k.strip() for k in self.cursor_keys.get_secret_value().split(",")]
            if not keys or any(len(k) < 16 for k in keys):
                raise ValueError("POLICY_MATCH_CURSOR_KEYS: each key needs 16 characters or more")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_in_production(self) -> "Settings":
        if self.environment == "production":
            secret = self.jwt_secret.get_secret_value() if self.jwt_secret else None
            keys = self.jwt_public_key or self.jwt_jwks_url
            if keys is None and (not secret or secret == PLACEHOLDER_SECRET):
                raise ValueError(
                    "POLICY_MATCH_JWT_SECRET, POLICY_MATCH_JWT_PUBLIC_KEY or "
                    "POLICY_MATCH_JWT_JWKS_URL must be set in production"
                )
            if self.enable_token_endpoint:
                raise ValueError("POLICY_MATCH_ENABLE_TOKEN_ENDPOINT must be false in production")
            if self.push_secret_keys is None:
                raise ValueError(
                    "POLICY_MATCH_PUSH_SECRET_KEYS must be set in production: subscription "
                    "secrets are stored sealed (policy-match new-secret-key makes a key)"
                )
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
