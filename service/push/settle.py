"""Settling attempts: record each one and move its delivery on.

Every attempt is recorded (push_attempt). A 2xx acknowledges; a 410 ends the subscription;
anything else (another status, a timeout, a refused or failed connection) is retried after an
exponential backoff with jitter, until the last attempt (PUSH_MAX_ATTEMPTS) leaves the delivery
dead. A result is settled only by the holder of the current claim (service/push/claim.py): one
whose lease ran out is recorded as `stale` and moves nothing. The hosts that did or did not
resolve are noted, and subscriptions unresolved too long are paused (service/push/pausing.py).
"""

import logging
import random
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, insert, update

from service.core.settings import Settings
from service.core.tables import ATTEMPT, DELIVERY, utcnow
from service.push.pausing import note_resolution
from service.push.sign import Attempted
from service.push.subscriptions import end_subscription

log = logging.getLogger("policy_match.delivery")


def retry_delay(attempt: int, settings: Settings, rng: random.Random) -> float:
    """Seconds before the next attempt after failed attempt number `attempt` (1-based).

    Exponential (base × 2^(attempt-1), capped), with "equal jitter": half of it fixed, half
    random, so that receivers coming back up are not hit by every retry at the same moment.
    """
    ceiling = min(
        settings.push_backoff_cap_seconds,
        settings.push_backoff_base_seconds * 2 ** min(attempt - 1, 30),
    )
    return float(ceiling / 2 + rng.uniform(0, ceiling / 2))


def settle(
    connection: Connection,
    results: Iterable[Attempted],
    *,
    settings: Settings,
    worker: str,
    rng: random.Random,
) -> dict[str, int]:
    """Record every attempt and move each delivery on, and note whose hosts resolved (pausing
    those unresolved for too long: service/push/pausing.py); the number of each outcome."""
    results = list(results)
    outcomes: dict[str, int] = {}
    now = utcnow()
    attempts = []
    for result in results:
        d = result.delivery
        values: dict[str, Any] = {
            "attempts": d.attempt,
            "claim": None,
            "last_status": result.status_code,
            "last_error": result.error,
        }
        if result.acknowledged:
            outcome = "delivered"
            values |= {"state": "delivered", "delivered_at": now}
        elif result.gone:
            outcome = "gone"
            values |= {"state": "cancelled"}
        elif d.attempt >= settings.push_max_attempts:
            outcome = "dead"
            values |= {"state": "dead"}
        else:
            outcome = "retry"
            delay = retry_delay(d.attempt, settings, rng)
            values |= {"next_attempt_at": now + timedelta(seconds=delay)}
        held = connection.execute(
            update(DELIVERY)
            .where(DELIVERY.c.id == d.delivery_id, DELIVERY.c.claim == d.claim)
            .values(**values)
        ).rowcount
        if not held:
            outcome = "stale"  # the lease ran out and another worker holds it now
        elif result.gone:
            end_subscription(
                connection, d.subscription_id, f"the receiver answered 410 Gone to {d.event_id}"
            )
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        attempts.append(
            {
                "delivery_id": d.delivery_id,
                "attempt": d.attempt,
                "worker": worker,
                "started_at": result.started_at,
                "duration_ms": result.duration_ms,
                "status_code": result.status_code,
                "error": result.error,
                "outcome": outcome,
            }
        )
    if attempts:
        connection.execute(insert(ATTEMPT), attempts)
    for paused in note_resolution(connection, results, settings, now):
        log.warning("%s: subscription %s paused: its host has not resolved", worker, paused)
    return outcomes
