"""Name resolution with a deadline, and a bound on the threads a stuck resolver can hold.

The system resolver (`socket.getaddrinfo`) blocks and cannot be cancelled. Each lookup runs
in a daemon thread of its own and the caller waits for it at most PUSH_RESOLVE_TIMEOUT_SECONDS;
past that the lookup counts as failed now (the host is "unresolved": pausing applies) and
its thread is left to finish alone. So a resolver that never answers cannot hold threads
without limit: at most LINGERING lookups run at once, and past that a lookup fails at once,
as if it had timed out, rather than starting another thread. Daemon threads: a process that
stops does not wait for a resolver that never answers.
"""

import asyncio
import contextlib
import socket
import threading
from typing import Any

LINGERING = 64  # lookups running at once (those past their deadline included)
_running = [0]
_count = threading.Lock()

AddressInfo = tuple[Any, ...]


class LookupTimeout(OSError):
    """The resolver did not answer in time, or too many lookups are still waiting on it."""


def _settle(future: "asyncio.Future[list[AddressInfo]]", result: Any, error: Any) -> None:
    if future.done():  # the caller stopped waiting
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


async def getaddrinfo(host: str, port: int, *, timeout: float) -> list[AddressInfo]:
    """`socket.getaddrinfo(host, port)` for TCP, within `timeout` seconds (LookupTimeout)."""
    with _count:
        if _running[0] >= LINGERING:
            raise LookupTimeout(f"{LINGERING} lookups are still waiting on the resolver")
        _running[0] += 1
    loop = asyncio.get_running_loop()
    future: asyncio.Future[list[AddressInfo]] = loop.create_future()

    def look_up() -> None:
        result: Any = None
        error: BaseException | None = None
        try:
            # looked up at call time: tests stand in for the OS resolver here
            result = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except BaseException as e:  # handed to the caller, whatever it is
            error = e
        finally:
            with _count:
                _running[0] -= 1
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
            loop.call_soon_threadsafe(_settle, future, result, error)

    try:
        threading.Thread(target=look_up, name=f"resolve {host}", daemon=True).start()
    except RuntimeError:  # no thread to be had: the same as no answer
        with _count:
            _running[0] -= 1
        raise LookupTimeout("no thread to wait on the resolver with") from None
    try:
        return await asyncio.wait_for(asyncio.shield(future), timeout)
    except TimeoutError:
        raise LookupTimeout(f"no answer from the resolver in {timeout:g} s") from None


def lingering() -> int:
    """How many lookups are running now (for tests and gauges)."""
    return _running[0]
