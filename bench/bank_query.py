"""The bank query on 1,000,000 stored firms: eligibility in SQL vs matching every profile in Python.

Run: .venv/bin/python -m bench.bank_query [--count N] [--reuse] [--database-name NAME]
Creates (or with --reuse keeps, when it already holds --count firms) the PostgreSQL database
`policy_match_bench` (or --database-name, so that a smoke run leaves a loaded one alone),
migrates it, loads synthetic firms with COPY (about 1% deleted, each consenting to each demo
bank with probability 1/3), and then measures side by side: the first page (100 firms) eligible
for `loan-interest-subsidy` for bank `bank-demo-1` through eligible_page(), and the same answer
computed by loading, validating and matching every stored profile in Python. The two answers
must be the same list.
"""

import argparse
import random
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import psycopg
from sqlalchemy import Engine, func, select, text

from service.banks.eligibility_sql import eligible_page, eligible_query
from service.core.database import make_engine
from service.core.migrate import upgrade_database
from service.core.settings import PROJECT_ROOT
from service.core.tables import ENTERPRISE
from service.matching.match import match
from service.policy.catalogue import Catalogue, load_catalogue
from service.policy.examples import synthetic_uscc
from service.policy.profile import NULLABLE_FIELDS, Profile
from service.policy.uscc import CHARSET
from service.registry.demo import INDUSTRY_CODES, TIER_WEIGHTS
from service.registry.store import FACT_COLUMNS, fact_columns, profile_document

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"
DATABASE = "policy_match_bench"
MEASURE = "loan-interest-subsidy"
BANK = "bank-demo-1"
BANKS = ("bank-demo-1", "bank-demo-2", "bank-demo-3")
PAGE = 100
DAY = date(2025, 6, 1)
MARK = "（合成基准数据）"
ABSENT = 0.05  # the chance that a firm leaves a field out

FACT_NAMES = (*FACT_COLUMNS, *(f"{name}_given" for name in sorted(NULLABLE_FIELDS)))
COPY_COLUMNS = (
    "uscc",
    "name",
    "profile",
    "version",
    "matched",
    "matched_catalogue_version",
    "matched_on",
    "synthetic",
    "created_at",
    "updated_at",
    "updated_by",
    "deleted_at",
    *FACT_NAMES,
)
TIERS: tuple[str, ...] = tuple(t for t, weight in TIER_WEIGHTS for _ in range(weight))
INDUSTRY = INDUSTRY_CODES


def _uscc(n: int, county: str) -> str:
    """A valid credit code, distinct for every n < 31**9, scattered over the code space."""
    k = (n * 387_420_489 + 1_000_003) % 31**9  # a bijection: the multiplier is prime to 31
    body = []
    for _ in range(9):
        k, digit = divmod(k, 31)
        body.append(CHARSET[digit])
    return synthetic_uscc(f"91{county}{''.join(body)}")


def synthetic_firm(
    rng: random.Random, n: int, counties: tuple[str, ...], vocab: Any
) -> dict[str, Any]:
    """One firm's profile as plain Python values (dates as dates); absent fields are left out."""
    r = rng.random
    county = counties[int(r() * len(counties))]
    tier = TIERS[int(r() * len(TIERS))]
    employees = (8, 15, 35, 60, 120, 250, 480, 900, 1500)[int(r() * 9)]
    revenue = employees * rng.randrange(250_000, 900_000)
    values: dict[str, Any] = {
        "uscc": _uscc(n, county),
        "name": f"{MARK}江门基准企业{n:07d}",
        "county": county,
        "industry_code": INDUSTRY[int(r() * len(INDUSTRY))],
        "tier": tier,
        "key_little_giant": tier == "little_giant" and r() < 0.3,
        "employees": employees,
        "revenue_cny": revenue,
        "profit_cny": int(revenue * (r() * 0.2 - 0.05)),
        "rd_expense_cny": int(revenue * (0.01 + r() * 0.07)),
        "invention_patents": (0, 0, 1, 2, 3, 5, 12)[int(r() * 7)],
        "trademarks": (0, 1, 1, 2, 4)[int(r() * 5)],
        "digital_level": (0, 1, 2, 2, 3, 4)[int(r() * 6)],
        "rd_institution": ("none", "none", "municipal", "provincial", "national")[int(r() * 5)],
        "university_partner": r() < 0.35,
        "fills_tech_gap": r() < 0.15,
        "standards_role": ("none", "none", "participant", "lead")[int(r() * 4)],
        "quality_award": r() < 0.1,
        "listing_stage": ("none",) * 8 + ("planning", "tutoring", "filed", "listed"),
        "equity_board_listed": r() < 0.08,
        "has_bank_loan": r() < 0.6,
        "zyb_digital_loan": r() < 0.12,
        "guaranteed_loan": r() < 0.2,
        "tech_upgrade_project": r() < 0.3,
        "needs_land": r() < 0.15,
        "imports_exports": r() < 0.4,
        "needs_talent": r() < 0.5,
        "migrant_workers": int(employees * r() * 0.7),
    }
    values["listing_stage"] = values["listing_stage"][int(r() * 12)]
    for name in list(values):
        if name not in ("uscc", "name", "county") and r() < ABSENT:
            del values[name]
    clusters, subs = vocab.codes("clusters"), vocab.codes("sub_industries")
    for name, codes in (("cluster", clusters), ("sub_industry", subs)):
        pick = r()
        if pick < 0.8:
            values[name] = codes[int(r() * len(codes))]
        elif pick < 0.9:
            values[name] = None  # given as null: a value
    if tier != "none" or r() < 0.3:
        pick = r()
        if pick < 0.8:
            values["tier_valid_until"] = date(2024, 1, 1) + timedelta(days=int(r() * 1400))
        elif pick < 0.9:
            values["tier_valid_until"] = None  # no expiry
    values["bank_consents"] = [bank for bank in BANKS if r() < 1 / 3]
    return values


def document_of(values: dict[str, Any]) -> dict[str, Any]:
    """The profile as stored (profile_document's JSON form)."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def columns_of(values: dict[str, Any]) -> dict[str, Any]:
    """The typed columns, as fact_columns() gives them for the validated profile."""
    columns = {name: values.get(name) for name in FACT_COLUMNS}
    columns.update({f"{name}_given": name in values for name in NULLABLE_FIELDS})
    if values.get("quality_award") is False:  # Profile.facts(): no award held is level none
        columns["quality_award_level"] = "none"
    return columns


def _rows(
    catalogue: Catalogue, count: int, seed: int
) -> Iterator[tuple[tuple[Any, ...], list[str]]]:
    rng = random.Random(seed)
    counties = tuple(catalogue.vocabularies.codes("counties"))
    now = datetime.now(UTC)
    for n in range(count):
        values = synthetic_firm(rng, n, counties, catalogue.vocabularies)
        columns = columns_of(values)
        deleted = now if rng.random() < 0.01 else None
        row = (
            values["uscc"],
            values["name"],
            orjson.dumps(document_of(values)).decode(),
            1,
            "[]",
            catalogue.version,
            DAY,
            True,
            now,
            now,
            "bench",
            deleted,
            *(columns[name] for name in FACT_NAMES),
        )
        yield row, ([] if deleted else values["bank_consents"])


def check_generator(catalogue: Catalogue, sample: int = 2000) -> None:
    """The fast generator's rows are what validating and storing each profile would give."""
    rng = random.Random(7)
    counties = tuple(catalogue.vocabularies.codes("counties"))
    for n in range(sample):
        values = synthetic_firm(rng, n, counties, catalogue.vocabularies)
        profile = Profile.model_validate(document_of(values))
        assert fact_columns(profile) == columns_of(values), values
        assert profile_document(profile) == document_of(values), values


def _psycopg_url(database: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{database}"


def prepare(catalogue: Catalogue, count: int, reuse: bool, database: str = DATABASE) -> str:
    """The bench database, holding `count` firms (created and loaded unless reused)."""
    url = SERVER + database
    with psycopg.connect(_psycopg_url("postgres"), autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if exists and reuse:
            upgrade_database(url)
            engine = make_engine(url)
            with engine.connect() as connection:
                stored = connection.execute(select(func.count()).select_from(ENTERPRISE)).scalar()
            engine.dispose()
            if stored == count:
                print(f"reusing {database}: {stored:,} firms")
                return url
            raise SystemExit(
                f"{database} holds {stored:,} firms, not {count:,}: run without --reuse"
            )
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{database}"')
    upgrade_database(url)
    check_generator(catalogue)
    started = time.perf_counter()
    consents = 0
    with psycopg.connect(_psycopg_url(database)) as connection:
        with connection.cursor() as cursor:
            rows = _rows(catalogue, count, seed=2024)
            firms = f"COPY enterprise ({', '.join(COPY_COLUMNS)}) FROM STDIN"
            pending: list[tuple[str, str]] = []
            with cursor.copy(firms) as copy:
                for row, banks in rows:
                    copy.write_row(row)
                    pending += [(bank, row[0]) for bank in banks]
            with cursor.copy("COPY bank_consent (bank_id, uscc) FROM STDIN") as copy:
                for pair in pending:
                    copy.write_row(pair)
            consents = len(pending)
        connection.commit()
    with psycopg.connect(_psycopg_url(database), autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE) enterprise")
        connection.execute("VACUUM (ANALYZE) bank_consent")
    print(
        f"loaded {count:,} firms and {consents:,} consents in "
        f"{time.perf_counter() - started:.0f} s (COPY, VACUUM ANALYZE)"
    )
    return url


def time_ms(step: Callable[[], object], runs: int) -> list[float]:
    """Wall times of `runs` calls in milliseconds, after two warm-up calls."""
    step()
    step()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def python_first_page(engine: Engine, catalogue: Catalogue) -> list[str]:
    """The first page computed in Python: every stored profile validated and matched."""
    found = []
    query = (
        select(ENTERPRISE.c.profile)
        .where(ENTERPRISE.c.deleted_at.is_(None))
        .order_by(ENTERPRISE.c.uscc)
        .execution_options(yield_per=20_000)
    )
    with engine.connect() as connection:
        for (document,) in connection.execute(query):
            profile = Profile.model_validate(document)
            result = match(catalogue=catalogue, facts=profile.facts(), as_of=DAY)
            if BANK in (profile.bank_consents or ()) and any(
                m.measure_id == MEASURE for m in result.matched_measures
            ):
                assert profile.uscc is not None
                found.append(profile.uscc)
    return found[:PAGE]


def main() -> None:
    """Prepare the database, measure both ways, print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep a loaded bench database")
    parser.add_argument("--runs", type=int, default=50, help="timed runs of the SQL page")
    parser.add_argument("--python-runs", type=int, default=1)
    parser.add_argument("--explain", action="store_true", help="print the query plan")
    parser.add_argument(
        "--database-name", default=DATABASE, help="the PostgreSQL database to (re)create"
    )
    args = parser.parse_args()
    catalogue = load_catalogue(PROJECT_ROOT / "policies")
    measure = catalogue.by_id[MEASURE]
    url = prepare(catalogue, args.count, args.reuse, args.database_name)
    engine = make_engine(url)

    def sql_page() -> list[str]:
        with engine.connect() as connection:
            rows = eligible_page(
                connection, catalogue, measure, DAY, bank_id=BANK, after=None, limit=PAGE
            )
        return [row.uscc for row in rows]

    if args.explain:
        query = eligible_query(catalogue, measure, DAY, bank_id=BANK, after=None, limit=PAGE)
        inline = query.compile(engine, compile_kwargs={"literal_binds": True})
        with engine.connect() as connection:
            plan = connection.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {inline}")).all()
        print("\n".join(line for (line,) in plan))

    sql_times = time_ms(sql_page, args.runs)
    sql_answer = sql_page()
    python_times = []
    python_answer: list[str] = []
    for _ in range(args.python_runs):
        start = time.perf_counter()
        python_answer = python_first_page(engine, catalogue)
        python_times.append((time.perf_counter() - start) * 1000)
    engine.dispose()

    assert sql_answer == python_answer, "SQL and Python disagree on the first page"
    assert len(sql_answer) == PAGE, f"only {len(sql_answer)} eligible consenting firms"
    median = statistics.median(sql_times)
    p95 = statistics.quantiles(sql_times, n=20)[-1]
    python_ms = statistics.median(python_times)
    ratio = python_ms / median
    print(f"SQL first page ({PAGE}), {args.runs} runs: median {median:.2f} ms, p95 {p95:.2f} ms")
    print(
        f"Python (load, validate, match every profile), {args.python_runs} run(s): "
        f"{python_ms / 1000:.1f} s"
    )
    print(f"same {PAGE} firms both ways; SQL is {ratio:,.0f}x faster")
    verdict = "PASS" if median <= 20 and ratio >= 20 else "FAIL"
    print(
        f"| bank query, first page of {PAGE} of {args.count:,} firms (`{MEASURE}`, `{BANK}`) "
        f"(target ≤ 20 ms, ≥ 20x Python) | SQL **{median:.1f} ms** median (p95 {p95:.1f} ms) vs "
        f"Python {python_ms / 1000:.1f} s: **{ratio:,.0f}x** {verdict} | "
        f"`.venv/bin/python -m bench.bank_query` |"
    )


if __name__ == "__main__":
    main()
