"""`policy-match check`, `review` and `publish`: the policies folder checked, reviewed, in force."""

import argparse
import sys
from pathlib import Path

from service.cli.output import Commands, checked, database_refused, loaded, on_terminal
from service.core.settings import get_settings
from service.matching.cases import run_cases

POLICIES_HELP = "policies folder (default: POLICY_MATCH_POLICIES_DIR, else policies/)"


def add_check(commands: Commands) -> None:
    """Declare `policy-match check`."""
    command = commands.add_parser("check", help="validate policies/ and run its test cases")
    command.add_argument("--policies", type=Path, default=None, help=POLICIES_HELP)
    command.set_defaults(run=check_command)


def add_publish(commands: Commands) -> None:
    """Declare `policy-match publish`."""
    command = commands.add_parser(
        "publish", help="put the policies folder in force and re-match every stored firm"
    )
    command.add_argument("--policies", type=Path, default=None, help=POLICIES_HELP)
    command.add_argument("--by", default="policy-match publish", help="who publishes")
    command.add_argument(
        "--no-progress", action="store_true", help="no progress bar (drawn on a terminal only)"
    )
    command.set_defaults(run=publish_command)


def add_review(commands: Commands) -> None:
    """Declare `policy-match review`."""
    command = commands.add_parser(
        "review", help="write docs/fidelity.md: every measure, its gates and their sources"
    )
    command.add_argument("--policies", type=Path, default=None, help=POLICIES_HELP)
    command.add_argument(
        "--output", type=Path, default=None, help="where to write (default: docs/fidelity.md)"
    )
    command.add_argument(
        "--check", action="store_true", help="write nothing; fail if the file differs"
    )
    command.set_defaults(run=review_command)


def check_command(args: argparse.Namespace) -> int:
    """Run `policy-match check` on the folder given, or the configured one."""
    return check(args.policies or get_settings().policies_dir)


def check(policies_dir: Path) -> int:
    """Validate every policy file and run every case; print what fails, file and case named."""
    catalogue = loaded(policies_dir)
    if catalogue is None:
        return 1
    failures = run_cases(catalogue)
    cases = sum(len(m.spec.cases) for m in catalogue.measures)
    for failure in failures:
        print(f"  {failure}", file=sys.stderr)
    if failures:
        print(f"FAILED: {len(failures)} of {cases} case(s)", file=sys.stderr)
        return 1
    print(
        f"ok: {len(catalogue.measures)} measures, {cases} cases, "
        f"{len(catalogue.comparisons)} distinct comparisons, {len(catalogue.indicators)} "
        f"indicators, {len(catalogue.targets)} targets; catalogue version {catalogue.version}"
    )
    return 0


def review_command(args: argparse.Namespace) -> int:
    """Write (or, with --check, compare) the review document of the policies folder."""
    from service.policy.review import render_review

    policies_dir = args.policies or get_settings().policies_dir
    output: Path = args.output or policies_dir.parent / "docs" / "fidelity.md"
    catalogue = loaded(policies_dir)
    if catalogue is None:
        return 1
    text = render_review(catalogue)
    if args.check:
        current = output.read_text(encoding="utf-8") if output.is_file() else None
        if current != text:
            print(f"{output} is out of date: run `policy-match review`", file=sys.stderr)
            return 1
        print(f"{output} is up to date ({len(catalogue.measures)} measures)")
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}: {len(catalogue.measures)} measures")
    return 0


def publish_command(args: argparse.Namespace) -> int:
    """Put the policies folder in force and re-match the stored firms, with a progress bar."""
    import asyncio

    from tqdm import tqdm

    from service.core.clock import today
    from service.core.database import make_engine, run_read, run_write
    from service.registry.publication import put_in_force
    from service.registry.rematch import claim_run, count_stale, execute_run, run_record

    settings = get_settings()
    catalogue = checked(args.policies or settings.policies_dir)
    if catalogue is None:
        return 1
    refused = database_refused(settings.database_url)
    if refused is not None:
        return refused
    engine = make_engine(settings.database_url)
    day = today()

    async def work() -> int:
        done = await run_write(engine, lambda c: put_in_force(c, catalogue, by=args.by, day=day))
        print(f"catalogue {catalogue.version} in force (was {done.previous or 'none'})")
        run_id = done.rematch_run
        if run_id is None:
            print("every stored firm's matches are current")
            return 0
        claim = await run_write(engine, lambda c: claim_run(c, worker=args.by, run_id=run_id))
        if claim is None:
            print(f"re-match run {run_id} is with a worker: GET /v1/catalogue/rematches/{run_id}")
            return 0
        total = await run_read(engine, lambda c: count_stale(c, catalogue.version, day))
        with tqdm(total=total, unit="firm", disable=args.no_progress or not on_terminal()) as bar:
            await execute_run(
                engine,
                catalogue,
                claim,
                batch_size=settings.rematch_batch_size,
                progress=bar.update,
            )
        run = await run_read(engine, lambda c: run_record(c, run_id))
        assert run is not None
        print(
            f"re-matched {run['firms_done']} firms: {run['firms_changed']} changed, "
            f"{run['events']} push events"
        )
        for label, counts in (("gained", run["gained"]), ("lost", run["lost"])):
            for measure_id, firms in counts.items():
                print(f"  {label:6} {measure_id}: {firms} firm(s)")
        return 0

    try:
        return asyncio.run(work())
    finally:
        engine.dispose()
