"""The identity provider's signing keys (a JWK set, RFC 7517), read from
POLICY_MATCH_JWT_JWKS_URL and held by `kid`.

Failing closed is the invariant: a token verifies only with a key the provider published. When
no key can be had (the provider is down, or answers garbage, too much or too slowly) the answer
is 503 with Retry-After; a `kid` the provider does not publish is 401. Never an open door.

The provider is asked again when a token names a `kid` we do not hold, or when the keys are an
hour old (a withdrawn key stops working), but at most once a minute whatever happens: a flood of
tokens with made-up `kid`s costs the provider one request a minute. A read is bounded: 2 s per
network step and for the whole body, 256 KiB. Keys held stay in use while the provider cannot be
read: they were its own, and tokens it signed before it went down still verify.
"""

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from service.core.errors import Unavailable

log = logging.getLogger("policy_match.jwks")

REFRESH_SECONDS = 60.0  # at most one read of the provider per this long
MAX_AGE_SECONDS = 3600.0  # keys older than this are read again
TIMEOUT_SECONDS = 2.0
MAX_BYTES = 256 * 1024
SIGNING_KEY_TYPES = frozenset({"RSA", "EC"})  # never "oct": a shared secret has no place here

Jwk = dict[str, Any]


class KeySetError(Exception):
    """The provider's key set could not be read, or is not a usable JWK set."""


class UnknownKey(LookupError):
    """The provider, read just now or within the minute, publishes no key by this `kid`."""


def parse_key_set(body: bytes) -> dict[str, Jwk]:
    """The signing keys of a JWK set by `kid`; KeySetError when it holds none we could use."""
    try:
        document = json.loads(body)
    except ValueError as e:  # UnicodeDecodeError included
        raise KeySetError("the key set is not JSON") from e
    listed = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(listed, list):
        raise KeySetError("the key set has no `keys` list")
    keys: dict[str, Jwk] = {}
    seen: set[str] = set()
    for key in listed:
        if not isinstance(key, dict) or not _is_signing_key(key):
            continue  # encryption keys, symmetric keys, other algorithms: not ours to use
        kid = key["kid"]
        if kid in seen:  # two keys under one name: neither can be told apart, so neither is used
            keys.pop(kid, None)
        else:
            keys[kid] = key
        seen.add(kid)
    if not keys:
        raise KeySetError("the key set holds no RS256 or ES256 signing key with a kid")
    return keys


def _is_signing_key(key: Jwk) -> bool:
    members = ("n", "e") if key.get("kty") == "RSA" else ("x", "y")
    return (
        isinstance(key.get("kid"), str)
        and bool(key["kid"])
        and key.get("kty") in SIGNING_KEY_TYPES
        and key.get("use", "sig") == "sig"
        and key.get("alg", "RS256" if key.get("kty") == "RSA" else "ES256") in ("RS256", "ES256")
        and (key.get("kty") == "RSA" or key.get("crv") == "P-256")
        and all(isinstance(key.get(m), str) for m in members)
        and "d" not in key  # a private key published by mistake is not used as if it were fine
    )


class KeySet:
    """The keys of one JWKS URL, read when needed and at most once a minute (thread-safe)."""

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
        timeout: float = TIMEOUT_SECONDS,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.url = url
        self._clock, self._transport = clock, transport
        self._timeout, self._max_bytes = timeout, max_bytes
        self._keys: dict[str, Jwk] = {}
        self._read_at: float | None = None  # when the keys held were read
        self._tried_at: float | None = None  # when the provider was last asked, read or not
        self._failure: str | None = None  # why the last attempt failed; None if it read
        self._lock = threading.Lock()

    def _may_ask(self, now: float) -> bool:
        return self._tried_at is None or now - self._tried_at >= REFRESH_SECONDS

    def _fresh(self, kid: str, now: float) -> bool:
        return (
            kid in self._keys
            and self._read_at is not None
            and now - self._read_at < MAX_AGE_SECONDS
        )

    def due(self, kid: str) -> bool:
        """Whether key(kid) would ask the provider first (then call prepare() from a thread)."""
        now = self._clock()
        return not self._fresh(kid, now) and self._may_ask(now)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # A caller waiting for another thread's read waits no longer than a read may take.
        if not self._lock.acquire(timeout=3 * self._timeout):
            raise self._unavailable("a read of the identity provider's keys is still waiting")
        try:
            yield
        finally:
            self._lock.release()

    def _read_if_due(self, kid: str) -> None:
        now = self._clock()
        if not self._fresh(kid, now) and self._may_ask(now):
            self._tried_at = now
            self._read()

    def prepare(self, kid: str) -> None:
        """Read the provider's keys if key(kid) would: bounded, but call it from a thread."""
        with self._locked():
            self._read_if_due(kid)

    def key(self, kid: str) -> Jwk:
        """The provider's key named `kid`, read first if due; UnknownKey, or 503 when unread.

        Waits on the network (bounded: about twice TIMEOUT_SECONDS) only if due(kid), and never
        on another thread's read unless due: a key held is answered without the lock.
        """
        if self.due(kid):
            self.prepare(kid)
        key = self._keys.get(kid)
        if key is not None:
            return key
        if self._failure is not None:  # the key may well exist: we cannot tell
            raise self._unavailable(self._failure)
        raise UnknownKey(kid)

    def _read(self) -> None:
        try:
            keys = parse_key_set(self._fetch())
        except KeySetError as e:
            self._failure = f"the identity provider's keys cannot be read: {e}"
            log.warning("%s (%s)", self._failure, self.url)  # the URL for the operator only
            return
        self._keys, self._read_at, self._failure = keys, self._clock(), None
        log.info("read %d signing keys from %s", len(keys), self.url)

    def _fetch(self) -> bytes:
        deadline = time.monotonic() + self._timeout  # the real clock: this bounds a real wait
        # Not compressed: the size cap counts the bytes that arrive, and a small gzip bomb
        # cannot become a large body past it.
        headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
        try:
            with (
                httpx.Client(transport=self._transport, timeout=self._timeout) as client,
                client.stream("GET", self.url, headers=headers) as answer,
            ):
                if answer.status_code != 200:
                    raise KeySetError(f"the provider answered {answer.status_code}")
                if answer.headers.get("content-encoding", "identity").lower() != "identity":
                    raise KeySetError("the key set came compressed, though asked not to be")
                declared = answer.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self._max_bytes:
                    raise KeySetError(f"the key set is larger than {self._max_bytes} bytes")
                body = bytearray()
                for chunk in answer.iter_raw():
                    body += chunk
                    if len(body) > self._max_bytes:
                        raise KeySetError(f"the key set is larger than {self._max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise KeySetError(f"the key set took over {self._timeout:g} s to read")
        except (httpx.HTTPError, httpx.InvalidURL) as e:
            raise KeySetError(f"no answer ({type(e).__name__})") from e
        return bytes(body)

    def _unavailable(self, reason: str) -> Unavailable:
        now = self._clock()
        wait = REFRESH_SECONDS - (now - self._tried_at) if self._tried_at is not None else 1
        return Unavailable(
            f"{reason}; bearer tokens cannot be verified until they can",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
