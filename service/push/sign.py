"""One attempt at a delivery: signed as Standard Webhooks does, POSTed within one deadline.

Each POST carries the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers, made
with the `standardwebhooks` library from the subscription's secret (unsealed here, kept in a
signer per secret). PUSH_TIMEOUT_SECONDS bounds the whole attempt, well inside the claim's
lease. What came back is an `Attempted`; service/push/settle.py records it.
"""

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from service.core.settings import Settings
from service.push.attempt_errors import describe_failure
from service.push.claim import Claimed
from service.push.subscriptions import split_target, unseal

log = logging.getLogger("policy_match.delivery")

USER_AGENT = "policy-match-push/1.0"
MAX_ANSWER_BYTES = 4096  # of a receiver's answer: the rest is never read


@dataclass(frozen=True, slots=True)
class Attempted:
    """What one POST of a claimed delivery came to."""

    delivery: Claimed
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    category: str | None = None  # why it failed (service/push/attempt_errors.py); None if answered
    answer: bytes = b""  # the first MAX_ANSWER_BYTES of the answer's body, never stored

    @property
    def subscription_id(self) -> str:
        """The subscription the delivery is for."""
        return self.delivery.subscription_id

    @property
    def acknowledged(self) -> bool:
        """A 2xx answer: the receiver has the event."""
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """A 410 answer: the receiver wants no more events on this subscription."""
        return self.status_code == 410


_signers: dict[str, Webhook] = {}


def sign(delivery: Claimed, moment: datetime, settings: Settings) -> dict[str, str]:
    """The Standard Webhooks headers of a delivery sent at `moment`."""
    signer = _signers.get(delivery.secret)
    if signer is None:
        signer = _signers[delivery.secret] = Webhook(unseal(delivery.secret, settings))
    return {
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signer.sign(delivery.event_id, moment, delivery.body.decode()),
    }


async def attempt(client: httpx.AsyncClient, delivery: Claimed, settings: Settings) -> Attempted:
    """POST one delivery, signed, within one deadline; what came back (never raises for the
    receiver's faults).

    PUSH_TIMEOUT_SECONDS bounds the whole attempt: resolving, connecting, sending and reading,
    so a receiver dripping its answer a byte at a time cannot hold it past the claim's lease.
    At most MAX_ANSWER_BYTES of the answer are read, then the connection is closed. A failure
    is recorded as a category with a fixed text (service/push/attempt_errors.py); the raw error,
    which may name internal addresses and ports, goes to the server's log only.
    """
    started, clock = datetime.now(UTC), time.perf_counter()
    status: int | None = None
    answer = b""
    failure: BaseException | None = None
    try:
        async with asyncio.timeout(settings.push_timeout_seconds):
            split_target(delivery.url)
            headers = {
                **sign(delivery, started, settings),
                "content-type": "application/json",
                "user-agent": USER_AGENT,
            }
            async with client.stream(
                "POST", delivery.url, content=delivery.body, headers=headers
            ) as response:
                status = response.status_code
                answer = await read_at_most(response, MAX_ANSWER_BYTES)
    except (TimeoutError, httpx.HTTPError, ValueError) as e:  # ValueError: TargetRefused too
        if status is None:  # once the status arrived it is the answer, read whole or not
            failure = e
    duration = round((time.perf_counter() - clock) * 1000)
    category, error = describe_failure(failure, status, settings)
    if failure is not None and category != "secret":
        log.info(
            "delivery %d to %s failed (%s): %r",
            delivery.delivery_id,
            delivery.subscription_id,
            category,
            failure,
        )
    return Attempted(delivery, started, duration, status, error, category, answer)


async def read_at_most(response: httpx.Response, limit: int) -> bytes:
    """Up to `limit` bytes of an answer's body, as sent (not decompressed); the rest unread."""
    kept = bytearray()
    async for chunk in response.aiter_raw():
        kept += chunk[: limit - len(kept)]
        if len(kept) >= limit:
            break
    return bytes(kept)
