"""`policy-match check`, `review` and `publish`: the policies folder checked, reviewed, in force."""

import argparse
from pathlib import Path

from service.cli.output import Commands, checked, database_refused, loaded, on_terminal, say
from service.core.i18n import Language, message, translate
from service.core.settings import get_settings
from service.matching.cases import run_cases

POLICIES_HELP = message("policies folder (default: POLICY_MATCH_POLICIES_DIR, else policies/)")


def add_check(commands: Commands, language: Language) -> None:
    """Declare `policy-match check`."""
    command = commands.add_parser(
        "check", help=message("validate policies/ and run its test cases").translate(language)
    )
    command.add_argument(
        "--policies", type=Path, default=None, help=POLICIES_HELP.translate(language)
    )
    command.set_defaults(run=check_command)


def add_publish(commands: Commands, language: Language) -> None:
    """Declare `policy-match publish`."""
    command = commands.add_parser(
        "publish",
        help=message("put the policies folder in force and re-match every stored firm").translate(
            language
        ),
    )
    command.add_argument(
        "--policies", type=Path, default=None, help=POLICIES_HELP.translate(language)
    )
    command.add_argument(
        "--by", default="policy-match publish", help=message("who publishes").translate(language)
    )
    command.add_argument(
        "--no-progress",
        action="store_true",
        help=message("no progress bar (drawn on a terminal only)").translate(language),
    )
    command.add_argument(
        "--dry-run",
        action="store_true",
        help=message(
            "write nothing: print which firms each added, removed or changed measure would move, "
            "by county, and the push events"
        ).translate(language),
    )
    command.add_argument(
        "--against",
        type=Path,
        default=None,
        help=message(
            "with --dry-run: the policies folder of the catalogue in force (needed once the "
            "folder differs from it)"
        ).translate(language),
    )
    command.set_defaults(run=publish_command)


def add_review(commands: Commands, language: Language) -> None:
    """Declare `policy-match review`."""
    command = commands.add_parser(
        "review",
        help=message(
            "write docs/fidelity.md: every measure, its gates and their sources"
        ).translate(language),
    )
    command.add_argument(
        "--policies", type=Path, default=None, help=POLICIES_HELP.translate(language)
    )
    command.add_argument(
        "--output",
        type=Path,
        default=None,
        help=message("where to write (default: docs/fidelity.md)").translate(language),
    )
    command.add_argument(
        "--check",
        action="store_true",
        help=message("write nothing; fail if the file differs").translate(language),
    )
    command.set_defaults(run=review_command)


def check_command(args: argparse.Namespace) -> int:
    """Run `policy-match check` on the folder given, or the configured one."""
    return check(args.policies or get_settings().policies_dir, args.lang)


def check(policies_dir: Path, language: Language) -> int:
    """Validate every policy file and run every case; print what fails, file and case named."""
    catalogue = loaded(policies_dir, language)
    if catalogue is None:
        return 1
    for note in catalogue.notes:
        said = message("note: {note}", note=note)
        say(f"  {said.translate(language)}", language)
    failures = run_cases(catalogue)
    cases = sum(len(m.spec.cases) for m in catalogue.measures)
    for failure in failures:
        say(f"  {translate(failure, language)}", language, err=True)
    if failures:
        say(
            message("FAILED: {failed} of {cases} case(s)", failed=len(failures), cases=cases),
            language,
            err=True,
        )
        return 1
    ok = message(
        "ok: {measures} measures, {cases} cases, {comparisons} distinct comparisons, "
        "{indicators} indicators, {targets} targets; catalogue version {version}",
        measures=len(catalogue.measures),
        cases=cases,
        comparisons=len(catalogue.comparisons),
        indicators=len(catalogue.indicators),
        targets=len(catalogue.targets),
        version=catalogue.version,
    )
    say(ok, language)
    return 0


def review_command(args: argparse.Namespace) -> int:
    """Write (or, with --check, compare) the review document of the policies folder."""
    from service.policy.review import render_review

    policies_dir = args.policies or get_settings().policies_dir
    output: Path = args.output or policies_dir.parent / "docs" / "fidelity.md"
    language: Language = args.lang
    catalogue = loaded(policies_dir, language)
    if catalogue is None:
        return 1
    text = render_review(catalogue)
    measures = len(catalogue.measures)
    if args.check:
        current = output.read_text(encoding="utf-8") if output.is_file() else None
        if current != text:
            stale = message("{file} is out of date: run `policy-match review`", file=output)
            say(stale, language, err=True)
            return 1
        say(
            message("{file} is up to date ({measures} measures)", file=output, measures=measures),
            language,
        )
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    say(message("wrote {file}: {measures} measures", file=output, measures=measures), language)
    return 0


def publish_command(args: argparse.Namespace) -> int:
    """Put the policies folder in force and re-match the stored firms, with a progress bar."""
    import asyncio

    from tqdm import tqdm

    from service.core.clock import today
    from service.core.database import make_engine, run_read, run_write
    from service.registry.publication import put_in_force
    from service.registry.rematch import claim_run, count_stale, execute_run, run_record

    if args.dry_run:
        from service.cli.preview import dry_run

        return dry_run(args)
    language: Language = args.lang
    settings = get_settings()
    catalogue = checked(args.policies or settings.policies_dir, language)
    if catalogue is None:
        return 1
    refused = database_refused(settings.database_url, language)
    if refused is not None:
        return refused
    engine = make_engine(settings.database_url)
    day = today()

    async def work() -> int:
        done = await run_write(engine, lambda c: put_in_force(c, catalogue, by=args.by, day=day))
        was = done.previous or message("none")
        in_force = message(
            "catalogue {version} in force (was {was})", version=catalogue.version, was=was
        )
        say(in_force, language)
        run_id = done.rematch_run
        if run_id is None:
            say(message("every stored firm's matches are current"), language)
            return 0
        claim = await run_write(engine, lambda c: claim_run(c, worker=args.by, run_id=run_id))
        if claim is None:
            with_worker = message(
                "re-match run {run} is with a worker: GET /v1/catalogue/rematches/{run}",
                run=run_id,
            )
            say(with_worker, language)
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
        rematched = message(
            "re-matched {done} firms: {changed} changed, {events} push events",
            done=run["firms_done"],
            changed=run["firms_changed"],
            events=run["events"],
        )
        say(rematched, language)
        labels = [message("gained").translate(language), message("lost").translate(language)]
        width = max(len(label) for label in labels)  # the measures line up under each other
        for label, counts in zip(labels, (run["gained"], run["lost"]), strict=True):
            for measure_id, firms in counts.items():
                line = message("{measure}: {firms} firm(s)", measure=measure_id, firms=firms)
                say(f"  {label.ljust(width)} {translate(line, language)}", language)
        return 0

    try:
        return asyncio.run(work())
    finally:
        engine.dispose()
