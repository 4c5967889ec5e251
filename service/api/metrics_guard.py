"""Who may read /metrics: a bearer token (METRICS_TOKEN) and/or peers in CIDR ranges
(METRICS_ALLOW_FROM). Neither set: open, as it always was; keep it off the public gateway.

The peer is the address the server sees: X-Forwarded-For replaces it only when it comes from
one of TRUSTED_PROXIES. With both settings, both must hold.
"""

import hmac
import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.problems import problem_response
from service.api.request_ids import scope_language
from service.core.errors import Forbidden, Unauthorized
from service.core.i18n import message
from service.core.settings import Network


def _peer_allowed(scope: Scope, networks: Sequence[Network]) -> bool:
    client = scope.get("client")
    if not client:
        return False
    try:
        address = ipaddress.ip_address(str(client[0]).split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def _bearer(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.partition(b" ")
            return credentials.strip() if scheme.lower() == b"bearer" else None
    return None


class MetricsGuard:
    """Refuse /metrics to a peer outside the ranges (403) or without the token (401)."""

    def __init__(
        self, app: ASGIApp, *, token: str | None, networks: Sequence[Network], path: str
    ) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.networks = tuple(networks)
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass every other request on; check this one first."""
        if scope["type"] == "http" and scope["path"] == self.path:
            refusal: Forbidden | Unauthorized | None = None
            if self.networks and not _peer_allowed(scope, self.networks):
                refusal = Forbidden(message("/metrics is not served to this address"))
            elif self.token is not None:
                given = _bearer(scope)
                if given is None or not hmac.compare_digest(given, self.token):
                    refusal = Unauthorized(message("/metrics needs the metrics bearer token"))
            if refusal is not None:
                answer = problem_response(refusal, scope_language(scope["headers"]))
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)
