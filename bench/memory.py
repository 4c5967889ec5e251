"""Resident memory of one uvicorn service process holding 100,000 stored firms, beside an empty one.

Run: .venv/bin/python -m bench.memory [--count 100000] [--requests 300] [--concurrency 8]
                                       [--database URL]
Generates `--count` synthetic firms (service.registry.demo.synthetic_profiles) and then, in one run:
1. empty: migrates a fresh SQLite file (or the PostgreSQL database given, which must hold no
   firms), starts the service on it with bench.common.start_server (one uvicorn worker, its own
   process), reads VmRSS and VmHWM (the peak) from /proc/<pid>/status once it is ready and has
   settled, then exercises it and reads them again;
2. stored: stops it, stores the firms in the same database, starts a new service process and
   does the same.
The exercise, the same both times, from `--concurrency` threads at once: `--requests` each of
GET /v1/enterprises/{uscc}/matches (stored firms, picked at random; 404 on the empty database),
POST /v1/match (their profiles) and bank-query pages (GET /v1/measures/{id}/eligible-enterprises,
100 a page, as bank `bank-demo-1`, following next_cursor through every finance measure in turn
and starting again at the end; each page is recorded as a disclosure).

The firms are stored in bulk, batch by batch, with what store_profile writes for a new firm: the
row (facts, profile, matches of today), its first version, its bank consents and its push events
(record_match_changes). The catalogue is published first and the matches are of today, so the
service finds nothing stale and runs no re-match while it is measured (the output says how many
re-match runs there were). Before loading, a sample is stored both ways into two scratch SQLite
files and the tables compared: the bulk rows are what store_profile would have written.

The servers run with the rate limits set out of reach (bench.common.UNLIMITED_RATES). On
PostgreSQL the firms stay in the given database afterwards.
"""

import argparse
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, Table, func, insert, select

from bench.common import UNLIMITED_RATES, bench_token, free_port, start_server, stop_server
from service.core.clock import today
from service.core.database import make_engine, write_transaction
from service.core.migrate import upgrade_database
from service.core.settings import PROJECT_ROOT
from service.core.tables import CONSENT, DELIVERY, ENTERPRISE, EVENT, RUN, VERSION, utcnow
from service.matching.cases import load_checked_catalogue
from service.policy.catalogue import Catalogue
from service.policy.profile import Profile
from service.push.outbox import MatchChange, record_match_changes
from service.registry.demo import synthetic_profiles
from service.registry.publication import publish
from service.registry.store import fact_columns, matched_ids, profile_document, store_profile

BANK = "bank-demo-1"
PAGE = 100
BY = "bench"
LOAD_BATCH = 5000
CHECK_SAMPLE = 200


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident set) of a process, in KiB, from /proc/<pid>/status."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])  # "123456 kB"
    return fields


def children(pid: int) -> list[int]:
    """The process ids of a process's children (none, for one uvicorn worker)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(n) for n in (task / "children").read_text().split()]
    return found


def load_firms(
    engine: Engine, catalogue: Catalogue, profiles: Sequence[Profile], day: date
) -> None:
    """Store new firms as store_profile would (row, version 1, consents, events), in bulk."""
    with write_transaction(engine) as connection:
        publish(connection, catalogue, by=BY)
    for start in range(0, len(profiles), LOAD_BATCH):
        now = utcnow()
        firms: list[dict[str, Any]] = []
        versions: list[dict[str, Any]] = []
        consents: list[dict[str, str]] = []
        changes: list[MatchChange] = []
        for profile in profiles[start : start + LOAD_BATCH]:
            assert profile.uscc is not None
            document = profile_document(profile)
            matched = matched_ids(catalogue, profile, day)
            firms.append(
                {
                    **fact_columns(profile),
                    "uscc": profile.uscc,
                    "name": profile.name,
                    "profile": document,
                    "version": 1,
                    "matched": list(matched),
                    "matched_catalogue_version": catalogue.version,
                    "matched_on": day,
                    "synthetic": True,
                    "created_at": now,
                    "updated_at": now,
                    "updated_by": BY,
                    "deleted_at": None,
                }
            )
            versions.append(
                {
                    "uscc": profile.uscc,
                    "version": 1,
                    "action": "created",
                    "profile": document,
                    "changed_by": BY,
                    "changed_at": now,
                }
            )
            banks = sorted(set(profile.bank_consents or []))
            consents += [{"bank_id": bank, "uscc": profile.uscc} for bank in banks]
            changes.append(MatchChange(profile.uscc, profile.county, [], matched))
        with write_transaction(engine) as connection:
            connection.execute(insert(ENTERPRISE), firms)
            connection.execute(insert(VERSION), versions)
            if consents:
                connection.execute(insert(CONSENT), consents)
            record_match_changes(connection, catalogue, changes, cause="profile_stored")


def _contents(engine: Engine) -> dict[str, list[Any]]:
    """What the registry and the outbox hold, less the times and generated ids."""

    def rows(table: Table, drop: set[str], order: Sequence[str]) -> list[dict[str, Any]]:
        query = select(table).order_by(*(table.c[name] for name in order))
        with engine.connect() as connection:
            found = [dict(row) for row in connection.execute(query).mappings()]
        return [{k: v for k, v in row.items() if k not in drop} for row in found]

    events = rows(EVENT, {"id", "event_id", "occurred_at"}, ["id"])
    for event in events:
        event["document"] = {
            k: v for k, v in event["document"].items() if k not in ("event_id", "occurred_at")
        }
    return {
        "enterprise": rows(ENTERPRISE, {"created_at", "updated_at"}, ["uscc"]),
        "enterprise_version": rows(VERSION, {"changed_at"}, ["uscc", "version"]),
        "bank_consent": rows(CONSENT, set(), ["bank_id", "uscc"]),
        "push_event": events,
        "push_delivery": rows(DELIVERY, set(), ["id"]),
    }


def check_loader(catalogue: Catalogue, profiles: Sequence[Profile], day: date) -> None:
    """load_firms writes what store_profile writes, compared on two scratch SQLite files."""
    with tempfile.TemporaryDirectory() as folder:
        engines = []
        for name in ("stored", "bulk"):
            url = f"sqlite:///{Path(folder) / name}.db"
            upgrade_database(url)
            engines.append(make_engine(url))
        stored, bulk = engines
        with write_transaction(stored) as connection:
            publish(connection, catalogue, by=BY)
            for profile in profiles:
                store_profile(
                    connection, catalogue, profile, changed_by=BY, day=day, synthetic=True
                )
        load_firms(bulk, catalogue, profiles, day)
        expected, got = _contents(stored), _contents(bulk)
        for engine in engines:
            engine.dispose()
    for table, rows in expected.items():
        assert got[table] == rows, f"bulk load differs from store_profile in {table}"
    assert expected["push_event"], "the sample made no events: the comparison shows nothing"


_tally_lock = threading.Lock()


def _request(
    client: httpx.Client, tally: Counter[str], kind: str, method: str, url: str, **kw: Any
) -> httpx.Response:
    response = client.request(method, url, **kw)
    with _tally_lock:
        tally[f"{kind} {response.status_code}"] += 1
    return response


def exercise(
    base: str,
    profiles: Sequence[Profile],
    measures: Sequence[str],
    requests: int,
    concurrency: int,
) -> Counter[str]:
    """`requests` each of GET matches, POST /v1/match and bank pages; answers by kind and status."""
    rng = random.Random(5)
    platform = {"Authorization": f"Bearer {bench_token('match', 'enterprises:read')}"}
    bank = {"Authorization": f"Bearer {bench_token('eligibility:read', bank_id=BANK)}"}
    tally: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(base_url=base, limits=limits, timeout=120, trust_env=False) as client:

        def read_matches(uscc: str) -> None:
            _request(client, tally, "GET matches", "GET", f"/v1/enterprises/{uscc}/matches")

        def match_one(body: dict[str, Any]) -> None:
            _request(client, tally, "POST /v1/match", "POST", "/v1/match", json=body)

        def bank_pages(pages: int, first: int) -> None:
            # one caller paging through the finance measures in turn, from `first`
            index, cursor = first, None
            for _ in range(pages):
                measure = measures[index % len(measures)]
                params: dict[str, str | int] = {"limit": PAGE}
                if cursor is not None:
                    params["cursor"] = cursor
                answer = _request(
                    client,
                    tally,
                    "bank page",
                    "GET",
                    f"/v1/measures/{measure}/eligible-enterprises",
                    params=params,
                    headers=bank,
                )
                cursor = answer.json()["next_cursor"] if answer.status_code == 200 else None
                if cursor is None:
                    index += 1

        client.headers.update(platform)
        tasks: list[Callable[[], None]] = []
        for _ in range(requests):
            uscc, body = rng.choice(profiles).uscc, profile_document(rng.choice(profiles))
            assert uscc is not None
            tasks += [partial(read_matches, uscc), partial(match_one, body)]
        chains = min(concurrency, requests)
        for chain in range(chains):
            share = requests // chains + (chain < requests % chains)
            tasks.append(partial(bank_pages, share, chain))
        rng.shuffle(tasks)
        with ThreadPoolExecutor(concurrency) as pool:
            for done in [pool.submit(task) for task in tasks]:
                done.result()
    return tally


@dataclass(frozen=True, slots=True)
class Reading:
    """One service process's memory, after start and after the exercise, and what it served."""

    started: dict[str, int]
    exercised: dict[str, int]
    answers: Counter[str]
    seconds: float
    runs: int  # re-match runs recorded while it ran


def measure(
    url: str,
    profiles: Sequence[Profile],
    measures: Sequence[str],
    args: argparse.Namespace,
) -> Reading:
    """Start the service on `url`, read its memory, exercise it, read again, stop it."""
    engine = make_engine(url)
    with engine.connect() as connection:
        runs_before = connection.execute(select(func.count()).select_from(RUN)).scalar_one()
    port = free_port()
    server = start_server(port, database_url=url, **UNLIMITED_RATES)
    try:
        extra = children(server.pid)
        assert not extra, f"the service is more than one process: children {extra}"
        time.sleep(args.settle)
        started = memory_kib(server.pid)
        clock = time.perf_counter()
        answers = exercise(
            f"http://127.0.0.1:{port}", profiles, measures, args.requests, args.concurrency
        )
        seconds = time.perf_counter() - clock
        exercised = memory_kib(server.pid)
    finally:
        stop_server(server)
    with engine.connect() as connection:
        runs = connection.execute(select(func.count()).select_from(RUN)).scalar_one()
    engine.dispose()
    return Reading(started, exercised, answers, seconds, int(runs - runs_before))


def _mib(kib: int) -> str:
    return f"{kib / 1024:7.1f}"


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000, help="firms to store")
    parser.add_argument("--requests", type=int, default=300, help="of each kind")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds after ready")
    parser.add_argument("--database", default=None, help="an empty PostgreSQL database URL")
    args = parser.parse_args()
    catalogue = load_checked_catalogue(PROJECT_ROOT / "policies")
    measures = [m.measure_id for m in catalogue.measures if m.spec.finance]
    day = today()  # the service's today: the stored matches are current, nothing to re-match
    started = time.perf_counter()
    profiles = synthetic_profiles(args.count, seed=2024)
    print(f"{args.count:,} synthetic firms generated in {time.perf_counter() - started:.1f} s")
    check_loader(catalogue, profiles[:CHECK_SAMPLE], day)
    print(f"bulk load checked: {CHECK_SAMPLE} firms give the rows store_profile writes")
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade_database(url)
        engine = make_engine(url)
        with engine.connect() as connection:
            held = connection.execute(select(func.count()).select_from(ENTERPRISE)).scalar_one()
        if held:
            raise SystemExit(f"the database holds {held:,} firms: give an empty one")
        backend = engine.dialect.name
        readings = {"empty": measure(url, profiles, measures, args)}
        started = time.perf_counter()
        load_firms(engine, catalogue, profiles, day)
        with engine.connect() as connection:
            stored = connection.execute(select(func.count()).select_from(ENTERPRISE)).scalar_one()
            events = connection.execute(select(func.count()).select_from(EVENT)).scalar_one()
        engine.dispose()
        print(
            f"stored {stored:,} firms ({events:,} push events) on {backend} in "
            f"{time.perf_counter() - started:.1f} s"
        )
        readings[f"{stored:,} firms"] = measure(url, profiles, measures, args)
    print(
        f"{'database':>14s} {'RSS at start':>13s} {'RSS after':>10s} {'peak (HWM)':>11s}  "
        "MiB; requests; re-match runs"
    )
    for name, reading in readings.items():
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(reading.answers.items()))
        print(
            f"{name:>14s} {_mib(reading.started['VmRSS']):>13s} "
            f"{_mib(reading.exercised['VmRSS']):>10s} {_mib(reading.exercised['VmHWM']):>11s}  "
            f"{sum(reading.answers.values())} in {reading.seconds:.1f} s ({answers}); "
            f"{reading.runs}"
        )
    empty, full = readings["empty"], readings[f"{stored:,} firms"]
    print(
        f"memory of one uvicorn worker on {backend}: {stored:,} firms stored: VmRSS "
        f"{full.started['VmRSS'] / 1024:.0f} MiB after start, "
        f"{full.exercised['VmRSS'] / 1024:.0f} MiB after {sum(full.answers.values())} requests "
        f"(peak {full.exercised['VmHWM'] / 1024:.0f} MiB); empty database: "
        f"{empty.started['VmRSS'] / 1024:.0f} MiB, {empty.exercised['VmRSS'] / 1024:.0f} MiB "
        f"(peak {empty.exercised['VmHWM'] / 1024:.0f} MiB)"
    )


if __name__ == "__main__":
    main()
