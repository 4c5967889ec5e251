"""Push subscriptions: where events go, which ones, and the secret that signs them.

A target URL must be http(s), name a well-formed host, and must not point at this host or the
cloud's metadata service: loopback, link-local (169.254.0.0/16 holds the metadata endpoints),
unspecified, multicast and reserved addresses, and this host's own interface addresses, are
refused, by literal address and by what the host name resolves to, when the subscription is
made and again when each delivery connects (service/push/transport.py connects to the address
checked). Private ranges are allowed: the
platform sits on the government network. A setting allows internal targets for tests.

Secrets must be stored to sign with; with PUSH_SECRET_KEYS set (required in production) they
are stored sealed (Fernet: AES-128-CBC and HMAC-SHA256), so a copy of the database alone does
not let anyone forge deliveries.
"""

import base64
import ipaddress
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Connection, func, insert, select, update

from service.core.clock import utc_text
from service.core.cursors import CursorKeys, cursor_owner
from service.core.errors import NotFound
from service.core.i18n import Message, Text, message
from service.core.settings import Settings
from service.core.tables import DELIVERY, SUBSCRIPTION, utcnow
from service.push.local_addresses import local_addresses
from service.push.lookup import getaddrinfo

REFUSED_HOSTS = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "localhost"}
)
# Metadata services outside link-local: Alibaba Cloud, Tencent Cloud (and AWS's IPv6 one).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("100.100.100.200", "169.254.0.23", "fd00:ec2::254")
)


class TargetRefused(ValueError):
    """A subscription URL this service will not POST to, and why (a Message, or plain text)."""


def refusal_text(refusal: TargetRefused) -> Text:
    """Why a target was refused, to translate when answered (str() of it is the English)."""
    reason = refusal.args[0] if refusal.args else ""
    return reason if isinstance(reason, Message) else str(reason)


class Unresolvable(TargetRefused):
    """A target whose host does not resolve (now): no delivery, but no harm in subscribing."""


def _refused_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> Message | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return message("a cloud metadata address")
    for test, name in (
        (address.is_loopback, message("a loopback address")),
        (address.is_link_local, message("a link-local address (cloud metadata lives there)")),
        (address.is_unspecified, message("the unspecified address")),
        (address.is_multicast, message("a multicast address")),
        (address.is_reserved, message("a reserved address")),
    ):
        if test:
            return name
    if address in local_addresses():
        return message("an address of this host")
    return None


def split_target(url: str) -> tuple[str, int]:
    """The host and port of a target URL; TargetRefused unless it is a plain http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise TargetRefused(message("not a URL: {problem}", problem=str(e))) from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(message("must be an http or https URL"))
    if not parts.hostname:
        raise TargetRefused(message("must name a host"))
    if parts.username is not None or parts.password is not None:
        raise TargetRefused(message("must not carry credentials; deliveries are signed instead"))
    if parts.fragment:
        raise TargetRefused(message("must not have a fragment"))
    host = parts.hostname.lower()
    host = host[:-1] if host.endswith(".") and not host.endswith("..") else host
    check_host_name(host)
    return host, port or (443 if parts.scheme == "https" else 80)


def literal_address(host: str) -> str | None:
    """The address a host written as an IP literal stands for (brackets dropped), or None."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def check_host_name(host: str) -> None:
    """TargetRefused unless `host` is an IP literal or a name DNS can carry: labels of 1 to 63
    characters (after IDNA encoding), 253 in all."""
    if literal_address(host):
        return
    try:
        encoded = host.encode("idna")
    except UnicodeError:
        raise TargetRefused(
            message("the host name is malformed: an empty label, or a label over 63 characters")
        ) from None
    labels = encoded.split(b".")
    if len(encoded) > 253 or not all(0 < len(label) <= 63 for label in labels):
        raise TargetRefused(
            message("the host name is malformed: labels of 1 to 63 characters, 253 in all")
        )


def check_addresses(host: str, addresses: list[str]) -> None:
    """TargetRefused if the host or any address it resolves to is one we do not POST to."""
    if host in REFUSED_HOSTS or host.endswith(".localhost"):
        raise TargetRefused(
            message("{host} is refused: it names this host or a metadata service", host=host)
        )
    for raw in addresses:
        address = ipaddress.ip_address(raw.split("%", 1)[0])
        reason = _refused_address(address)
        if reason:
            raise TargetRefused(
                message(
                    "{host} resolves to {address}, {reason}",
                    host=host,
                    address=str(address),
                    reason=reason,
                )
            )


_resolved: dict[tuple[str, int], tuple[float, list[str]]] = {}
RESOLVE_TTL_SECONDS = 60.0


async def resolve(host: str, port: int, *, timeout: float) -> list[str]:
    """The addresses a host resolves to (cached a minute); Unresolvable if it does not, or not
    within `timeout` seconds (PUSH_RESOLVE_TIMEOUT_SECONDS: service/push/lookup.py)."""
    literal = literal_address(host)
    if literal:
        return [literal]
    key = (host, port)
    hit = _resolved.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    try:
        infos = await getaddrinfo(host, port, timeout=timeout)
    except (OSError, UnicodeError) as e:
        why = getattr(e, "strerror", None) or e
        raise Unresolvable(
            message("{host} does not resolve ({why})", host=host, why=str(why))
        ) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))  # the resolver's order
    _resolved[key] = (time.monotonic() + RESOLVE_TTL_SECONDS, addresses)
    return addresses


async def check_target(
    url: str, *, allow_internal: bool, resolve_timeout: float, must_resolve: bool = True
) -> None:
    """TargetRefused unless events may be POSTed to this URL.

    A host that does not resolve (within `resolve_timeout` seconds) is refused only if
    `must_resolve` (when delivering): a subscription may name a host that internal DNS will
    know, and each delivery checks again.
    """
    host, port = split_target(url)
    if allow_internal:
        return
    try:
        addresses = await resolve(host, port, timeout=resolve_timeout)
    except Unresolvable:
        if must_resolve:
            raise
        addresses = []
    check_addresses(host, addresses)


SEALED = "fernet:"


@lru_cache(maxsize=4)
def _keys(raw: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.strip()) for k in raw.split(",") if k.strip()])
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"POLICY_MATCH_PUSH_SECRET_KEYS is not a list of Fernet keys: {e}"
        ) from None


def seal(secret: str, settings: Settings) -> str:
    """A secret as stored: sealed with the first PUSH_SECRET_KEYS key (as given without keys)."""
    if settings.push_secret_keys is None:
        return secret
    return (
        SEALED
        + _keys(settings.push_secret_keys.get_secret_value()).encrypt(secret.encode()).decode()
    )


def unseal(stored: str, settings: Settings) -> str:
    """The secret a stored value holds; ValueError if sealed with no key configured now."""
    if not stored.startswith(SEALED):
        return stored
    if settings.push_secret_keys is None:
        raise ValueError("a subscription secret is sealed; set POLICY_MATCH_PUSH_SECRET_KEYS")
    try:
        token = stored.removeprefix(SEALED).encode()
        return _keys(settings.push_secret_keys.get_secret_value()).decrypt(token).decode()
    except InvalidToken:
        raise ValueError(
            "no key of POLICY_MATCH_PUSH_SECRET_KEYS opens a subscription secret"
        ) from None


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes them: whsec_ and 32 random bytes, base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True, slots=True)
class Subscription:
    """A stored subscription (its secret is never read back out)."""

    id: str
    url: str
    counties: list[str] | None
    kinds: list[str] | None
    description: str | None
    state: str
    ended_reason: str | None
    ended_at: datetime | None
    created_at: datetime
    created_by: str
    unresolved_since: datetime | None = None
    paused_at: datetime | None = None
    paused_reason: str | None = None
    catch_up_after: int | None = None

    def as_json(
        self, keys: CursorKeys, deliveries: Mapping[str, int] | None = None
    ) -> dict[str, Any]:
        """The subscription as the API answers it, with delivery counts by state if given."""
        body: dict[str, Any] = {
            "id": self.id,
            "url": self.url,
            "counties": self.counties,
            "kinds": self.kinds,
            "description": self.description,
            "state": self.state,
            "ended_reason": self.ended_reason,
            "ended_at": None if self.ended_at is None else utc_text(self.ended_at),
            "created_at": utc_text(self.created_at),
            "created_by": self.created_by,
            **pause_json(self, keys),
        }
        if deliveries is not None:
            body["deliveries"] = {
                state: deliveries.get(state, 0)
                for state in ("pending", "delivered", "dead", "cancelled")
            }
        return body


def pause_json(subscription: Subscription, keys: CursorKeys) -> dict[str, Any]:
    """What a subscription says of its host not resolving, its pause, and where to catch up."""
    return {
        name: None if moment is None else utc_text(moment)
        for name, moment in (
            ("unresolved_since", subscription.unresolved_since),
            ("paused_at", subscription.paused_at),
        )
    } | {
        "paused_reason": subscription.paused_reason,
        "catch_up_cursor": None
        if subscription.catch_up_after is None
        else keys.feed_cursor(subscription.catch_up_after, cursor_owner(subscription.created_by)),
    }


_COLUMNS = [SUBSCRIPTION.c[name] for name in Subscription.__slots__]


def create_subscription(
    connection: Connection,
    settings: Settings,
    *,
    url: str,
    counties: list[str] | None,
    kinds: list[str] | None,
    description: str | None,
    created_by: str,
) -> tuple[Subscription, str]:
    """Store a new active subscription; the subscription and its secret (shown only now)."""
    secret = new_secret()
    subscription = Subscription(
        id=f"sub_{secrets.token_hex(12)}",
        url=url,
        counties=counties,
        kinds=kinds,
        description=description,
        state="active",
        ended_reason=None,
        ended_at=None,
        created_at=utcnow(),
        created_by=created_by,
    )
    row = {name: getattr(subscription, name) for name in Subscription.__slots__}
    connection.execute(insert(SUBSCRIPTION).values(**row, secret=seal(secret, settings)))
    return subscription, secret


def get_subscription(connection: Connection, subscription_id: str) -> Subscription:
    """The subscription; NotFound if there is none with this id."""
    row = connection.execute(select(*_COLUMNS).where(SUBSCRIPTION.c.id == subscription_id)).first()
    if row is None:
        raise NotFound(message("no subscription {id}", id=subscription_id))
    return Subscription(*row)


def list_subscriptions(connection: Connection) -> list[Subscription]:
    """Every subscription, newest first."""
    rows = connection.execute(select(*_COLUMNS).order_by(SUBSCRIPTION.c.created_at.desc()))
    return [Subscription(*row) for row in rows]


def delivery_counts(connection: Connection, subscription_id: str) -> dict[str, int]:
    """How many of the subscription's deliveries are in each state."""
    rows = connection.execute(
        select(DELIVERY.c.state, func.count())
        .where(DELIVERY.c.subscription_id == subscription_id)
        .group_by(DELIVERY.c.state)
    ).all()
    return {state: int(count) for state, count in rows}


def end_subscription(connection: Connection, subscription_id: str, reason: str) -> bool:
    """End an active (or paused) subscription and cancel what it still had to deliver; False if
    it had ended already."""
    ended = connection.execute(
        update(SUBSCRIPTION)
        .where(SUBSCRIPTION.c.id == subscription_id, SUBSCRIPTION.c.state.in_(("active", "paused")))
        .values(state="ended", ended_reason=reason[:300], ended_at=utcnow())
    ).rowcount
    if ended:
        connection.execute(
            update(DELIVERY)
            .where(DELIVERY.c.subscription_id == subscription_id, DELIVERY.c.state == "pending")
            .values(state="cancelled", claim=None)
        )
    return bool(ended)
