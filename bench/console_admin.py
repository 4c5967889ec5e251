"""The console's push and disclosure pages on a large outbox and disclosure record (SQLite).

Run: .venv/bin/python -m bench.console_admin [--deliveries N] [--disclosures N] [--runs N]
Fills a database of its own (in a temporary folder) with N events, one delivery each to one
subscription (1 in 150 dead, the last sixth pending, 1 in 50 of those failing), and N
disclosures of 20 firms each; then, signed in as the demo clients, times each page in-process
(the application as `create_app` makes it, its background gauges running), alternating with
the console's front page (the frame alone) as the reference. Target: each page ≤ 100 ms.
"""

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import insert

from service.core.database import make_engine, write_transaction
from service.core.migrate import upgrade_database
from service.core.settings import Settings
from service.core.tables import DELIVERY, DISCLOSED, DISCLOSURE, EVENT, SUBSCRIPTION
from service.main import create_app
from tests.console.signing import DEMO_AUTH_CLIENTS, sign_in

TARGET_MS = 100
CHUNK = 20_000


def fill(url: str, deliveries: int, disclosures: int) -> None:
    """The outbox and the disclosure record, written in bulk."""
    upgrade_database(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    pending_from = deliveries - deliveries // 6
    with write_transaction(engine) as c:
        c.execute(
            insert(SUBSCRIPTION).values(
                id="sub_bench", url="https://receiver.example/h", secret="whsec_x", created_by="b"
            )
        )
        for start in range(0, deliveries, CHUNK):
            span = range(start, min(deliveries, start + CHUNK))
            c.execute(
                insert(EVENT),
                [
                    {
                        "id": i + 1,
                        "event_id": f"evt_{i:032d}",
                        "type": "measure.matched",
                        "occurred_at": now,
                        "uscc": "91440781MA4UL0000X",
                        "county": "440781",
                        "measure_id": "guarantee-fee-subsidy",
                        "kind": "guarantee_fee_subsidy",
                        "cause": "rematch",
                        "document": {},
                    }
                    for i in span
                ],
            )
            c.execute(
                insert(DELIVERY),
                [
                    {
                        "id": i + 1,
                        "event_id": i + 1,
                        "subscription_id": "sub_bench",
                        "state": "dead"
                        if i % 150 == 0
                        else ("pending" if i >= pending_from else "delivered"),
                        "attempts": 10 if i % 150 == 0 else (1 if i % 50 == 1 else 0),
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for i in span
                ],
            )
        for start in range(0, disclosures, CHUNK):
            span = range(start, min(disclosures, start + CHUNK))
            c.execute(
                insert(DISCLOSURE),
                [
                    {
                        "id": d + 1,
                        "disclosed_at": now,
                        "caller": "demo-bank-1",
                        "bank_id": f"bank-{d % 5}",
                        "measure_id": "guarantee-fee-subsidy",
                        "as_of": now.date(),
                        "catalogue_version": "bench",
                        "firm_count": 20,
                    }
                    for d in span
                ],
            )
            c.execute(
                insert(DISCLOSED),
                [
                    {"disclosure_id": d + 1, "uscc": f"91440781MA4U{(d * 20 + k) % 999_999:06d}"}
                    for d in span
                    for k in range(20)
                ],
            )
    engine.dispose()


def timed(client: TestClient, path: str) -> float:
    """One page's wall time in milliseconds (it must answer 200)."""
    start = time.perf_counter()
    answer = client.get(path)
    elapsed = (time.perf_counter() - start) * 1000
    assert answer.status_code == 200, (path, answer.status_code)
    return elapsed


def main() -> None:
    """Fill, then time each page beside the front page, alternating."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=300_000)
    parser.add_argument("--disclosures", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="policy-match-bench-console-"))
    url = f"sqlite:///{folder / 'policy_match.db'}"
    began = time.perf_counter()
    fill(url, args.deliveries, args.disclosures)
    print(
        f"filled {args.deliveries:,} deliveries, {args.disclosures:,} disclosures "
        f"({args.disclosures * 20:,} firms named) in {time.perf_counter() - began:.0f} s"
    )
    settings = Settings(
        environment="test",
        jwt_secret=SecretStr("bench-secret-that-is-long-enough-01"),
        database_url=url,
        auth_clients=DEMO_AUTH_CLIENTS,
        push_worker_in_process=False,
        log_json=False,
        log_level="WARNING",
    )
    pages = {
        "demo-platform": ["/console/push", "/console/push?dead_before=150000"],
        "demo-auditor": [
            "/console/disclosures",
            "/console/disclosures?bank_id=bank-3",
            "/console/disclosures?uscc=91440781MA4U000123",
            "/console/disclosures?before=20000",
        ],
    }
    with TestClient(create_app(settings), follow_redirects=False) as client:
        print(f"{'page':48s} {'median':>8s} {'p95':>8s} {'front':>8s} {'ratio':>6s}")
        for who, paths in pages.items():
            sign_in(client, who)
            for path in paths:
                timed(client, path), timed(client, "/console/")  # warm
                page, front = [], []
                for _ in range(args.runs):
                    page.append(timed(client, path))
                    front.append(timed(client, "/console/"))
                median, reference = statistics.median(page), statistics.median(front)
                p95 = sorted(page)[max(0, int(len(page) * 0.95) - 1)]
                verdict = "ok" if median <= TARGET_MS else "OVER"
                print(
                    f"{path:48s} {median:7.1f}ms {p95:7.1f}ms {reference:7.1f}ms "
                    f"{median / reference:6.1f} {verdict}"
                )


if __name__ == "__main__":
    main()
