"""The soak benchmark's verdict: a leak, an error, a lost process or stalled push fails it."""

from typing import Any

import pytest

from bench.soak_verdict import Limits, judge, slope_per_minute, window_start

LIMITS = Limits()


def run(
    minutes: float,
    server_mib: Any = lambda t: 120.0,
    *,
    acknowledged: Any = lambda t: int(t),
    gone_after: float | None = None,
    state: str = "active",
) -> list[dict[str, Any]]:
    """Samples every 10 s: the server's RSS and the receiver's count as functions of time."""
    samples = []
    for step in range(int(minutes * 6) + 1):
        t = step * 10.0
        server = None if gone_after is not None and t > gone_after else server_mib(t)
        samples.append(
            {
                "t": t,
                "processes": {
                    "server": None if server is None else {"rss_kib": int(server * 1024)},
                    "worker": {"rss_kib": 100 * 1024},
                },
                "push": {"acknowledged": acknowledged(t), "state": state},
            }
        )
    return samples


def verdict(samples: list[dict[str, Any]], errors: int = 0, **logs: int) -> dict[str, Any]:
    """judge() on samples whose last one ends the run."""
    return judge(samples, samples[-1]["t"], errors, {"server error": 0, **logs}, LIMITS)


def test_slope_is_per_minute_and_least_squares() -> None:
    assert slope_per_minute([0, 60, 120], [10, 11, 12]) == pytest.approx(1.0)
    # one spike in the middle does not tilt the line
    assert slope_per_minute([0, 60, 120], [10, 20, 10]) == pytest.approx(0.0)
    assert slope_per_minute([5], [10]) == 0.0


def test_the_window_is_the_last_ten_minutes_or_the_last_third() -> None:
    assert window_start(30 * 60, LIMITS) == 20 * 60
    assert window_start(60 * 60, LIMITS) == 50 * 60
    assert window_start(3 * 60, LIMITS) == 2 * 60


def test_memory_that_levels_off_passes() -> None:
    # warm-up growth in the first 20 minutes is outside the window
    level = verdict(run(30, lambda t: 100.0 + min(t, 1200.0) / 60))
    assert level["passed"], level["checks"]
    assert level["checks"]["memory server"]["slope_mib_per_min"] == pytest.approx(0.0)


def test_memory_still_growing_fails() -> None:
    leak = verdict(run(30, lambda t: 100.0 + t / 60))  # 1 MiB a minute throughout
    assert not leak["passed"]
    assert leak["checks"]["memory server"]["slope_mib_per_min"] == pytest.approx(1.0)
    assert not leak["checks"]["memory server"]["passed"]
    assert leak["checks"]["memory worker"]["passed"]


def test_a_jump_above_the_window_start_fails() -> None:
    jump = verdict(run(30, lambda t: 130.0 if t >= 1790 else 120.0))
    assert jump["checks"]["memory server"]["rise_mib"] == pytest.approx(10.0)
    assert not jump["passed"]


def test_errors_error_lines_a_lost_process_or_stalled_push_fail() -> None:
    assert verdict(run(30))["passed"]
    assert not verdict(run(30), errors=1)["passed"]
    assert not verdict(run(30), **{"worker traceback": 1})["passed"]
    lost = verdict(run(30, gone_after=1500))
    assert lost["checks"]["alive server"] == {"samples_missing": 30, "passed": False}
    assert not lost["passed"]
    stalled = verdict(run(30, acknowledged=lambda t: min(int(t), 1000)))
    assert stalled["checks"]["push delivered in the window"]["acknowledged"] == 0
    assert not stalled["passed"]
    assert not verdict(run(30, state="ended"))["passed"]
