"""The soak's verdict: no upward trend of memory in the last window, and nothing went wrong.

The window is the last `window_seconds` of the run (10 minutes), or its last third when the
run is shorter than three windows. Each process's resident memory passes when, over the
window's samples, the least-squares slope is at most `max_slope` MiB a minute and no sample
is more than `max_rise` MiB above the window's first.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    """What the verdict allows."""

    window_seconds: float = 600.0
    max_slope: float = 0.5  # MiB per minute
    max_rise: float = 6.0  # MiB above the window's first sample


def slope_per_minute(times: Sequence[float], values: Sequence[float]) -> float:
    """The least-squares slope of values over times (seconds), per minute (0 for < 2 points)."""
    n = len(times)
    if n < 2:
        return 0.0
    mean_t, mean_v = sum(times) / n, sum(values) / n
    spread = sum((t - mean_t) ** 2 for t in times)
    if spread == 0:
        return 0.0
    covariance = sum((t - mean_t) * (v - mean_v) for t, v in zip(times, values, strict=True))
    return covariance / spread * 60.0


def window_start(duration: float, limits: Limits) -> float:
    """When the judged window begins: the last window_seconds, or the last third if shorter."""
    return duration - min(limits.window_seconds, duration / 3)


def memory_check(
    times: Sequence[float], rss_mib: Sequence[float], limits: Limits
) -> dict[str, Any]:
    """One process's memory over the window (its samples given): slope, rise, and pass."""
    slope = slope_per_minute(times, rss_mib)
    rise = max(rss_mib) - rss_mib[0] if rss_mib else 0.0
    return {
        "samples": len(rss_mib),
        "first_mib": round(rss_mib[0], 1) if rss_mib else None,
        "max_mib": round(max(rss_mib), 1) if rss_mib else None,
        "last_mib": round(rss_mib[-1], 1) if rss_mib else None,
        "slope_mib_per_min": round(slope, 3),
        "rise_mib": round(rise, 1),
        "passed": len(rss_mib) >= 3 and slope <= limits.max_slope and rise <= limits.max_rise,
    }


def judge(
    samples: Sequence[dict[str, Any]],
    duration: float,
    errors: int,
    log_errors: dict[str, int],
    limits: Limits,
) -> dict[str, Any]:
    """The verdict on a run: memory per process in the window, errors, push, processes."""
    begin = window_start(duration, limits)
    window = [s for s in samples if s["t"] >= begin]
    checks: dict[str, Any] = {}
    for name in samples[0]["processes"] if samples else []:
        alive = [s for s in window if s["processes"][name] is not None]
        checks[f"memory {name}"] = memory_check(
            [s["t"] for s in alive],
            [s["processes"][name]["rss_kib"] / 1024 for s in alive],
            limits,
        )
        gone = sum(s["processes"][name] is None for s in samples)
        checks[f"alive {name}"] = {"samples_missing": gone, "passed": gone == 0}
    checks["errors"] = {"count": errors, "passed": errors == 0}
    checks["error log lines"] = {**log_errors, "passed": not any(log_errors.values())}
    answered = [s["push"].get("acknowledged", 0) for s in window if s.get("push")]
    delivered = answered[-1] - answered[0] if len(answered) >= 2 else 0
    checks["push delivered in the window"] = {"acknowledged": delivered, "passed": delivered > 0}
    state = samples[-1]["push"].get("state") if samples else None
    checks["subscription still active"] = {"state": state, "passed": state == "active"}
    return {
        "window_start_s": round(begin, 1),
        "window_seconds": round(duration - begin, 1),
        "limits": asdict(limits),
        "checks": checks,
        "passed": bool(checks) and all(c["passed"] for c in checks.values()),
    }
