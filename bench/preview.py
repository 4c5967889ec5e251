"""The impact preview of one changed measure over the stored firms, on SQLite (the brief's
target: 100,000 firms in at most 10 s).

Run: .venv/bin/python -m bench.preview [--firms 100000] [--database URL]
(with --database, a database already holding firms is reused as it is: reruns skip the load)
Loads synthetic firms straight into a fresh SQLite file (bench.rematch.load: their matches
and one subscription), then previews a copy of the policies folder in which
`brand-cultivation-services` is opened to innovative SMEs and closed to municipal ones,
as `policy-match publish --dry-run` and the console do (nothing written). Beside it, in the
same process: reading every stored profile and matching it against the whole catalogue (what
a re-match run cannot go below), and the ratio of the two.
"""

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import yaml

from bench.rematch import DAY, floor, load
from service.core.database import make_engine
from service.core.migrate import upgrade_database
from service.core.settings import PROJECT_ROOT
from service.policy.catalogue import load_catalogue
from service.registry.preview import preview_impact, stored_firms

CHANGED = "brand-cultivation-services"


def changed_folder(folder: Path) -> Path:
    """A copy of policies/ with CHANGED's tiers changed."""
    target = folder / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", target)
    path = target / "measures" / f"{CHANGED}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["eligibility"]["all"][0]["one_of"] = ["innovative", "provincial", "little_giant"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--firms", type=int, default=100_000)
    parser.add_argument(
        "--database",
        default=None,
        help="a migrated database URL: loaded when empty, reused as it is when it holds firms",
    )
    args = parser.parse_args()
    real = load_catalogue(PROJECT_ROOT / "policies")
    with tempfile.TemporaryDirectory() as folder:
        candidate = load_catalogue(changed_folder(Path(folder)))
        database = args.database or f"sqlite:///{Path(folder) / 'bench.db'}"
        if args.database is None:
            upgrade_database(database)
        engine = make_engine(database)
        with engine.connect() as connection:
            stored = stored_firms(connection)
        if stored == 0:
            started = time.perf_counter()
            load(engine, real, args.firms, max_pending=10_000)
            print(f"loaded {args.firms:,} firms in {time.perf_counter() - started:.1f} s")
        batches: list[int] = []
        started = time.perf_counter()
        with engine.connect() as connection:
            preview = preview_impact(connection, real, candidate, day=DAY, progress=batches.append)
        seconds = time.perf_counter() - started
        bare = floor(engine, real)
        (impact,) = preview.measures
        print(
            f"preview of {CHANGED}: {seconds:.2f} s ({preview.firms / seconds:,.0f} firms/s, "
            f"{len(batches)} batches): {sum(impact.gained.values()):,} gain it, "
            f"{sum(impact.lost.values()):,} lose it, {sum(preview.events.values()):,} events"
        )
        print(f"read and match every profile (whole catalogue): {bare:.2f} s")
        print(f"ratio preview / read-and-match: {seconds / bare:.2f}")
        print(
            f"{engine.dialect.name}: one changed measure over {preview.firms:,} firms {seconds:.1f} s;"
            f" target <= 10 s: {'PASS' if seconds <= 10 else 'FAIL'}"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
