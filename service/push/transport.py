"""The connections deliveries go out on: to the address that was checked, and no other.

Resolution is bounded (PUSH_RESOLVE_TIMEOUT_SECONDS, service/push/lookup.py): a host not
resolved in time fails the attempt as `dns`, and the pausing of unresolved hosts applies.

A target's host is resolved once per connection, its addresses checked against the target
rules (service/push/subscriptions.py), and the connection is made to a checked address itself. So a
resolver that answers a public address to the check and 127.0.0.1 to the connection (DNS
rebinding) gets nowhere: there is no second resolution. TLS still verifies the certificate
against the host name: httpcore passes the URL's host as `server_hostname` to the stream's
`start_tls`, whatever address the stream was opened to.
"""

import ssl
from collections.abc import Iterable
from typing import Any

import certifi
import httpcore
import httpx

from service.core.settings import Settings
from service.push.subscriptions import Unresolvable, check_addresses, resolve

SocketOption = Any  # httpcore's SOCKET_OPTION union; not exported


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, resolving each host once and connecting to what was checked.

    With `allow_internal` the address rules are not applied (tests, a receiver on this host),
    but the connection is still made to the address resolved here.
    """

    def __init__(self, *, allow_internal: bool, resolve_timeout: float) -> None:
        self.allow_internal = allow_internal
        self.resolve_timeout = resolve_timeout
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve `host` once, refuse it if any address is refused, connect to the first
        address that answers (TargetRefused, or httpcore's ConnectError if none does)."""
        # an IP literal is itself, unresolved; a name not resolved in time is unresolved now
        addresses = await resolve(host, port, timeout=self.resolve_timeout)
        if not addresses:
            raise Unresolvable(f"{host} resolves to no address")
        if not self.allow_internal:
            check_addresses(host, addresses)
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                failure = e
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never: deliveries go over TCP only."""
        raise httpcore.ConnectError("deliveries are not made over Unix sockets")

    async def sleep(self, seconds: float) -> None:
        """As the inner backend sleeps."""
        await self.inner.sleep(seconds)


def delivery_ssl_context(settings: Settings) -> ssl.SSLContext:
    """Certificates verified against PUSH_CA_FILE if set (an internal CA), else certifi's."""
    return ssl.create_default_context(cafile=settings.push_ca_file or certifi.where())


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool whose connections are pinned (PinnedBackend)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=delivery_ssl_context(settings),
            max_connections=settings.push_concurrency,
            max_keepalive_connections=settings.push_concurrency,
            keepalive_expiry=5.0,
            network_backend=PinnedBackend(
                allow_internal=settings.push_allow_internal_targets,
                # within the attempt's own deadline, so that a resolver that does not answer
                # fails the attempt as `dns` (unresolved: pausing applies), not as `timeout`
                resolve_timeout=min(
                    settings.push_resolve_timeout_seconds, settings.push_timeout_seconds / 2
                ),
            ),
        )


def delivery_client(settings: Settings) -> httpx.AsyncClient:
    """The client deliveries go out on: pinned connections, no redirects, no proxies from the
    environment; a read timeout per chunk (the attempt's whole deadline is the caller's)."""
    return httpx.AsyncClient(
        transport=PinnedTransport(settings),
        timeout=httpx.Timeout(settings.push_timeout_seconds),
        follow_redirects=False,
        trust_env=False,
    )
