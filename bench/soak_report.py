"""What the soak prints: a line per sample as it goes, and a summary with the verdict."""

from pathlib import Path
from typing import Any


def _mib(usage: dict[str, Any] | None) -> str:
    return "ended" if usage is None else f"{usage['rss_kib'] / 1024:6.1f}"


def print_sample(sample: dict[str, Any]) -> None:
    """One line: time, memory of each process, requests and errors, /healthz p99, push."""
    load, push = sample["load"], sample["push"]
    memory = " ".join(f"{name} {_mib(usage)}" for name, usage in sample["processes"].items())
    deliveries = push.get("deliveries") or {}
    pending = deliveries.get("pending", "?")
    health = load["healthz_p99_ms"]
    print(
        f"{sample['t']:7.0f} s  RSS MiB: {memory}  requests {sum(load['requests'].values()):5d}"
        f" errors {sum(load['errors'].values())}  healthz p99 "
        f"{'-' if health is None else f'{health:.0f} ms'}  receiver posts "
        f"{push.get('posts', '?')} acknowledged {push.get('acknowledged', '?')}  pending "
        f"{pending}  db connections {sample['database_connections']}",
        flush=True,
    )


def print_summary(record: dict[str, Any], window: float, output: Path) -> None:
    """The run in a few lines, the verdict's checks, and a headline last."""
    verdict = record["verdict"]
    checks = verdict["checks"]
    print(
        f"\nsoak {record['ended']} after {record['duration_s'] / 60:.1f} min ({record['revision']})"
    )
    for kind, totals in record["requests"].items():
        print(
            f"  {kind:12s} {totals['requests']:8d} requests  p50 {totals['p50_ms']} ms  "
            f"p99 {totals['p99_ms']} ms"
        )
    print(f"  errors: {record['errors']['count']}")
    for error in record["errors"]["first"][:5]:
        print(f"    {error['kind']} {error['url']}: {error['error']}")
    print(f"  stored at the end: {record['stored']}")
    print(f"judged window: the last {window / 60:.1f} min")
    for name, check in checks.items():
        shown = {k: v for k, v in check.items() if k != "passed"}
        print(f"  {'PASS' if check['passed'] else 'FAIL'}  {name}: {shown}")
    first = record["samples"][0]["processes"]
    memory = []
    for name in first:
        check = checks[f"memory {name}"]
        start = first[name]["rss_kib"] / 1024 if first[name] else float("nan")
        memory.append(
            f"{name} {start:.0f} → {check['last_mib'] or '-'} MiB (slope "
            f"{check['slope_mib_per_min']:+.2f} MiB/min, rise {check['rise_mib']} MiB)"
        )
    requests = sum(t["requests"] for t in record["requests"].values())
    acknowledged = checks["push delivered in the window"]["acknowledged"]
    print(f"written to {output}")
    print(
        f"soak {round(record['duration_s'] / 60, 1):g} min on PostgreSQL: {requests:,} requests, "
        f"{record['errors']['count']} errors; RSS {'; '.join(memory)} in the last "
        f"{round(window / 60, 1):g} min; {acknowledged} deliveries acknowledged in it: "
        f"{'PASS' if verdict['passed'] else 'FAIL'}"
    )
