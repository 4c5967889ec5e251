"""`policy-match demo-data` and `import`: enterprise profiles written to a file, and stored."""

import argparse
import json
from pathlib import Path

from service.cli.output import USAGE, Commands, database_refused, on_terminal, say
from service.core.i18n import Language, joined, message
from service.core.settings import get_settings
from service.policy.catalogue import load_catalogue


def add_demo_data(commands: Commands, language: Language) -> None:
    """Declare `policy-match demo-data`."""
    command = commands.add_parser(
        "demo-data",
        help=message("write synthetic demo enterprises as JSON Lines, for `import`").translate(
            language
        ),
    )
    command.add_argument(
        "--count", type=int, default=3000, help=message("how many enterprises").translate(language)
    )
    command.add_argument(
        "--seed",
        type=int,
        default=20240130,
        help=message("the same seed writes the same firms").translate(language),
    )
    command.add_argument(
        "--output",
        type=Path,
        default=Path("demo-enterprises.jsonl"),
        help=message("the file to write").translate(language),
    )
    command.set_defaults(run=demo_data_command)


def add_import(commands: Commands, language: Language) -> None:
    """Declare `policy-match import`."""
    command = commands.add_parser(
        "import",
        help=message("store enterprise profiles from an .xlsx, .csv or .jsonl file").translate(
            language
        ),
    )
    command.add_argument(
        "file",
        type=Path,
        help=message(
            "an .xlsx, .csv (UTF-8 or GB18030) or .jsonl file of profiles; headers may be "
            "field names or their Chinese labels"
        ).translate(language),
    )
    command.add_argument(
        "--synthetic",
        action="store_true",
        help=message("mark the rows as demo data").translate(language),
    )
    command.add_argument(
        "--changed-by",
        default=None,
        help=message("recorded in each firm's history (default: import:<file name>)").translate(
            language
        ),
    )
    command.add_argument(
        "--errors",
        type=Path,
        default=None,
        help=message("write bad rows as JSONL").translate(language),
    )
    command.add_argument(
        "--bad-rows",
        type=Path,
        default=None,
        help=message(
            "write bad rows to this .xlsx: each as the file had it, with an error column"
        ).translate(language),
    )
    command.add_argument(
        "--no-progress",
        action="store_true",
        help=message("no progress bar (drawn on a terminal only)").translate(language),
    )
    command.set_defaults(run=import_command)


def demo_data_command(args: argparse.Namespace) -> int:
    """Write the synthetic demo enterprises to a JSON Lines file."""
    from service.registry.demo import write_demo_file

    written = write_demo_file(args.output, count=args.count, seed=args.seed)
    wrote = message(
        "wrote {count} synthetic demo enterprises to {file}", count=written, file=args.output
    )
    say(wrote, args.lang)
    return 0


def import_command(args: argparse.Namespace) -> int:
    """Run `policy-match import`: store the good rows, report the bad ones by line number."""
    from sqlalchemy.exc import DBAPIError

    from service.core.clock import today
    from service.core.database import make_engine
    from service.core.errors import SheetRefused
    from service.registry.import_result import write_bad_rows
    from service.registry.importing import database_said, import_file

    language: Language = args.lang
    if not args.file.is_file():
        say(message("{file}: no such file", file=args.file), language, err=True)
        return USAGE
    settings = get_settings()
    refused = database_refused(settings.database_url, language)
    if refused is not None:
        return refused
    engine = make_engine(settings.database_url)
    try:
        report = import_file(
            args.file,
            engine,
            load_catalogue(settings.policies_dir),
            changed_by=args.changed_by or f"import:{args.file.name}",
            day=today(),
            synthetic=args.synthetic,
            progress=not args.no_progress and on_terminal(),
        )
    except SheetRefused as e:  # refused whole: nothing was stored
        cause = message(
            "{file} refused, nothing stored: {title}: {detail}",
            file=args.file.name,
            title=e.title,
            detail=e.detail,
        )
        say(cause, language, err=True)
        return 1
    except DBAPIError as e:  # the engine hides the parameters; only the first line is shown
        said = database_said(e)
        stopped = message(
            "import stopped, the database failed ({said}); rows stored before stay", said=said
        )
        say(stopped, language, err=True)
        return 1
    finally:
        engine.dispose()
    for bad in report.bad[:50]:
        line = message("line {line}: {problems}", line=bad.line, problems=joined(bad.problems))
        say(f"  {line.translate(language)}", language, err=True)
    if len(report.bad) > 50:
        more = message("... and {count} more bad rows", count=len(report.bad) - 50)
        say(f"  {more.translate(language)}", language, err=True)
    if args.errors:
        with args.errors.open("wb") as out:
            for bad in report.bad:
                problems = bad.said(language)
                out.write(json.dumps({"line": bad.line, "problems": problems}).encode() + b"\n")
    if args.bad_rows:
        write_bad_rows(report, args.bad_rows, language)
    stored = message(
        "stored {stored} enterprises ({created} created, {updated} updated, {unchanged} "
        "unchanged); {bad} bad rows",
        stored=report.stored,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        bad=len(report.bad),
    )
    say(stored, language)
    return 1 if report.bad else 0
