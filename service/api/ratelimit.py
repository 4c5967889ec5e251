"""Per-caller rate limits on the expensive endpoints, with the `limits` library.

Each limited operation has a budget per caller (the token's `sub`), in `limits` notation
("600/minute", or several: "20/second;600/minute"): matching counts profiles (a batch spends
one per profile), the bank query pages, the plan's progress each count (a scan of the
registry). The window is a sliding-window counter: constant memory per caller, and no burst
of twice the budget at a window's edge. Counters live in `RATE_LIMIT_STORAGE`: `memory://`
(the default) counts per process; `redis://host:6379` shares one count between processes and
hosts (install `limits[redis]`).
"""

import math
import time
from dataclasses import dataclass
from enum import StrEnum

from fastapi import Request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from service.api.auth import Caller
from service.core.errors import TooManyRequests
from service.core.i18n import message
from service.core.settings import Settings


class Limited(StrEnum):
    """The operations with a rate limit."""

    MATCH = "match"
    BANK_QUERY = "bank_query"
    PLAN_PROGRESS = "plan_progress"


# What each budget counts: matching spends one per profile, so a batch of 1,000 spends 1,000.
COUNTED = {
    Limited.MATCH: message("profiles matched"),
    Limited.BANK_QUERY: message("bank query pages"),
    Limited.PLAN_PROGRESS: message("plan progress counts"),
}


def _parse(setting: str, text: str | None) -> tuple[RateLimitItem, ...]:
    if not text or text.strip().lower() == "none":
        return ()
    try:
        return tuple(parse_many(text))
    except ValueError as e:
        raise ValueError(f"POLICY_MATCH_{setting.upper()}: {e}") from None


@dataclass(frozen=True)
class RateLimits:
    """The budgets in force and the counters they are kept in."""

    limiter: SlidingWindowCounterRateLimiter
    budgets: dict[Limited, tuple[RateLimitItem, ...]]

    @classmethod
    def from_settings(cls, settings: Settings) -> "RateLimits":
        """The limits the settings ask for; ValueError names a setting that cannot be read."""
        budgets = {
            Limited.MATCH: _parse("rate_limit_match", settings.rate_limit_match),
            Limited.BANK_QUERY: _parse("rate_limit_bank_query", settings.rate_limit_bank_query),
            Limited.PLAN_PROGRESS: _parse(
                "rate_limit_plan_progress", settings.rate_limit_plan_progress
            ),
        }
        for item in budgets[Limited.MATCH]:
            if item.amount < settings.max_batch_size:
                raise ValueError(
                    f"POLICY_MATCH_RATE_LIMIT_MATCH: {item} is less than one batch "
                    f"(MAX_BATCH_SIZE {settings.max_batch_size}): a full batch could never pass"
                )
        storage = storage_from_string(settings.rate_limit_storage)
        return cls(SlidingWindowCounterRateLimiter(storage), budgets)

    def spend(self, operation: Limited, caller: Caller, cost: int = 1) -> None:
        """Count `cost` against the caller's budget; TooManyRequests (429) when over."""
        for item in self.budgets[operation]:
            if not self.limiter.hit(item, operation, caller.subject, cost=cost):
                stats = self.limiter.get_window_stats(item, operation, caller.subject)
                wait = max(1, math.ceil(stats.reset_time - time.time()))
                raise TooManyRequests(
                    message(
                        "{counted} for {subject} are limited to {amount} every {seconds} s; "
                        "try again in {wait} s",
                        counted=COUNTED[operation],
                        subject=caller.subject,
                        amount=item.amount,
                        seconds=item.get_expiry(),
                        wait=wait,
                    ),
                    headers={
                        "Retry-After": str(wait),
                        "RateLimit-Policy": f"{item.amount};w={item.get_expiry()}",
                    },
                )


def spend(request: Request, operation: Limited, caller: Caller, cost: int = 1) -> None:
    """Count `cost` against the caller's budget in the application's limits (429 when over)."""
    limits: RateLimits = request.app.state.rate_limits
    limits.spend(operation, caller, cost)
