"""Waking a worker early: a process that just wrote events need not wait for the next poll.

A worker waits between rounds with `pause`, which a wake-up cuts short. Routes that write
events (a store, a deletion, a resume, a redelivery) or queue a re-match run call
`wake_worker` with the application's state; the worker this process runs, if any
(service/worker.py's Worker, kept as `state.worker`), starts its next round now. Workers in
other processes find the work at their next poll.
"""

import asyncio
from typing import Any, Protocol


class Wakeable(Protocol):
    """A worker that can be woken: delivery now, and with `upkeep` a look for runs too."""

    def wake(self, *, upkeep: bool = False) -> None:
        """Start the next round now."""
        ...


def wake_worker(state: Any, *, upkeep: bool = False) -> None:
    """Wake the in-process worker, if this process runs one: events were just written (or,
    with `upkeep`, a re-match run was queued)."""
    worker: Wakeable | None = getattr(state, "worker", None)
    if worker is not None:
        worker.wake(upkeep=upkeep)


async def pause(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `stop` or `wake` is set; `wake` is cleared for the next time."""
    waits = [asyncio.ensure_future(e.wait()) for e in (stop, wake)]
    await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for w in waits:
        w.cancel()
    wake.clear()
