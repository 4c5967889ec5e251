"""The soak's mixed load: operations started at a steady rate, each answer checked and timed.

Every operation is one kind of what the platform and the banks do all day: match a profile,
match a batch, store a profile (an update that changes its matches, or now and then a new
firm), page through a finance measure's eligible firms as a bank, read the push feed, and
ask /healthz. Any answer other than the one expected (a 5xx, an unexpected 4xx, a refused
or dropped connection, a timeout) is an error, kept with its details.
"""

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.common import bench_token
from service.policy.profile import Profile
from service.registry.store import profile_document

BANKS = ("bank-demo-1", "bank-demo-2", "bank-demo-3")
BATCH = 25  # profiles in one POST /v1/match/batch
PAGES = 3  # bank pages followed at most, one after another, per bank operation
TOKEN_SECONDS = 900  # tokens are issued again this often (they live an hour)
KEPT_ERRORS = 50  # the details of this many errors are kept; all are counted

# kind: relative weight of the operations started
WEIGHTS = {"match": 30, "batch": 4, "store": 20, "bank": 15, "feed": 5, "healthz": 20}


@dataclass
class Interval:
    """What the load saw between two samples: latencies by kind, errors by kind."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict[str, Any]:
        """Counts, errors and latency percentiles (ms), overall and for /healthz."""
        every = sorted(t for times in self.latencies.values() for t in times)
        health = sorted(self.latencies.get("healthz", []))
        return {
            "requests": {kind: len(times) for kind, times in sorted(self.latencies.items())},
            "errors": dict(self.errors),
            "p50_ms": percentile(every, 0.50),
            "p99_ms": percentile(every, 0.99),
            "healthz_p99_ms": percentile(health, 0.99),
        }


def percentile(ordered: Sequence[float], point: float) -> float | None:
    """The nearest-rank percentile of sorted values, rounded to 0.1 (None if there are none)."""
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(point * len(ordered)))], 1)


class Load:
    """Mixed load on one service: `run` starts operations at `rate` a second until stopped."""

    def __init__(
        self,
        base: str,
        firms: Sequence[Profile],
        new_firms: Sequence[Profile],
        measures: Sequence[str],
        seed: int = 11,
    ) -> None:
        """Operate on the service at `base`: the stored `firms`, `new_firms` stored now and
        then, bank pages of `measures`. Its `client` is set by whoever runs it."""
        self.base = base
        self.client: httpx.AsyncClient | None = None  # made in the event loop that runs it
        self.firms, self.new_firms, self.measures = firms, new_firms, measures
        self.rng = random.Random(seed)
        self.interval = Interval()
        self.latencies: dict[str, list[float]] = {}  # the whole run's, by kind
        self.error_total = 0
        self.errors: list[dict[str, Any]] = []
        self.behind = 0  # operations started late because `concurrency` were in flight
        self.versions: Counter[str] = Counter()
        self.stored_new = 0
        self.feed_cursor: str | None = None
        self._issued = -float(TOKEN_SECONDS)
        self._tokens: dict[str, str] = {}

    def take_interval(self) -> dict[str, Any]:
        """The interval's summary; a new interval starts."""
        interval, self.interval = self.interval, Interval()
        return interval.summary()

    def totals(self) -> dict[str, dict[str, Any]]:
        """The whole run by kind: requests, p50 and p99 (ms)."""
        answer = {}
        for kind, times in sorted(self.latencies.items()):
            ordered = sorted(times)
            answer[kind] = {
                "requests": len(ordered),
                "p50_ms": percentile(ordered, 0.5),
                "p99_ms": percentile(ordered, 0.99),
            }
        return answer

    def token(self, who: str) -> dict[str, str]:
        """The Authorization header of `who` (platform, push or a bank id), issued anew every
        TOKEN_SECONDS."""
        if time.monotonic() - self._issued > TOKEN_SECONDS:
            self._issued = time.monotonic()
            scopes = ("match", "enterprises:read", "enterprises:write")
            self._tokens = {"platform": bench_token(*scopes), "push": bench_token("push")}
            for bank in BANKS:
                self._tokens[bank] = bench_token("eligibility:read", bank_id=bank)
        return {"Authorization": f"Bearer {self._tokens[who]}"}

    async def request(
        self, kind: str, method: str, url: str, expected: tuple[int, ...], **kw: Any
    ) -> httpx.Response | None:
        """One request, timed; an error recorded unless it answered one of `expected`."""
        started = time.perf_counter()
        problem: str | None = None
        response: httpx.Response | None = None
        assert self.client is not None, "the load runs with a client"
        try:
            response = await self.client.request(method, url, **kw)
            if response.status_code not in expected:
                problem = f"HTTP {response.status_code}: {response.text[:300]}"
        except httpx.HTTPError as e:
            problem = f"{type(e).__name__}: {e}"[:300]
        took = (time.perf_counter() - started) * 1000
        self.interval.latencies.setdefault(kind, []).append(took)
        self.latencies.setdefault(kind, []).append(took)
        if problem is None:
            return response
        self.interval.errors[kind] += 1
        self.error_total += 1
        if len(self.errors) < KEPT_ERRORS:
            self.errors.append({"at": time.time(), "kind": kind, "url": url, "error": problem})
        return None

    async def match(self) -> None:
        """POST /v1/match with a stored firm's profile."""
        body = profile_document(self.rng.choice(self.firms))
        headers = self.token("platform")
        await self.request("match", "POST", "/v1/match", (200,), json=body, headers=headers)

    async def batch(self) -> None:
        """POST /v1/match/batch with BATCH profiles."""
        body = {"profiles": [profile_document(p) for p in self.rng.sample(self.firms, BATCH)]}
        headers = self.token("platform")
        await self.request("batch", "POST", "/v1/match/batch", (200,), json=body, headers=headers)

    async def store(self) -> None:
        """PUT a stored firm's profile with a change (its loan, its land, its headcount), or
        one in 20 times a new firm's."""
        if self.stored_new < len(self.new_firms) and self.rng.random() < 0.05:
            profile, change = self.new_firms[self.stored_new], 0
            self.stored_new += 1
        else:
            profile = self.rng.choice(self.firms)
            assert profile.uscc is not None
            self.versions[profile.uscc] += 1
            change = self.versions[profile.uscc]
        body = profile_document(profile)
        if change:
            body["has_bank_loan"] = change % 2 == 1
            body["needs_land"] = change % 3 == 1
            body["employees"] = (body.get("employees") or 0) + change % 7
        path = f"/v1/enterprises/{profile.uscc}"
        headers = self.token("platform")
        await self.request("store", "PUT", path, (200, 201), json=body, headers=headers)

    async def bank(self) -> None:
        """A bank pages through the firms eligible for a finance measure (up to PAGES pages)."""
        bank = self.rng.choice(BANKS)
        path = f"/v1/measures/{self.rng.choice(self.measures)}/eligible-enterprises"
        params: dict[str, str | int] = {"limit": 100}
        for _ in range(PAGES):
            answer = await self.request(
                "bank", "GET", path, (200,), params=params, headers=self.token(bank)
            )
            cursor = answer.json().get("next_cursor") if answer is not None else None
            if cursor is None:
                return
            params["cursor"] = cursor

    async def feed(self) -> None:
        """The platform reads the push feed on from where it left off."""
        params: dict[str, str | int] = {"limit": 100}
        if self.feed_cursor is not None:
            params["after"] = self.feed_cursor
        answer = await self.request(
            "feed", "GET", "/v1/push-events", (200,), params=params, headers=self.token("push")
        )
        if answer is not None:
            self.feed_cursor = answer.json().get("next_cursor") or self.feed_cursor

    async def healthz(self) -> None:
        """GET /healthz."""
        await self.request("healthz", "GET", "/healthz", (200,))

    async def run(self, rate: float, concurrency: int, stop: asyncio.Event) -> None:
        """Start an operation every 1/rate s (kinds drawn by WEIGHTS), at most `concurrency`
        in flight, until `stop` is set; then wait for those in flight."""
        operations: dict[str, Callable[[], Awaitable[None]]] = {
            kind: getattr(self, kind) for kind in WEIGHTS
        }
        kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
        slots = asyncio.Semaphore(concurrency)
        running: set[asyncio.Task[None]] = set()

        async def one(kind: str) -> None:
            try:
                await operations[kind]()
            finally:
                slots.release()

        loop = asyncio.get_running_loop()
        start, n = loop.time(), 0
        while not stop.is_set():
            n += 1
            wait = start + n / rate - loop.time()
            if wait < -1.0:  # more than a second behind: no burst to catch up
                start, n = loop.time(), 0
            elif wait > 0:
                try:
                    await asyncio.wait_for(stop.wait(), wait)
                    break
                except TimeoutError:
                    pass
            if slots.locked():
                self.behind += 1
            await slots.acquire()
            task = asyncio.create_task(one(self.rng.choices(kinds, weights)[0]))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:
            await asyncio.wait(running)
