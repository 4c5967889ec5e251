"""`policy-match demo-data` and `import`: enterprise profiles written to a file, and stored."""

import argparse
import json
import sys
from pathlib import Path

from service.cli.output import USAGE, Commands, database_refused, on_terminal
from service.core.settings import get_settings
from service.policy.catalogue import load_catalogue


def add_demo_data(commands: Commands) -> None:
    """Declare `policy-match demo-data`."""
    command = commands.add_parser(
        "demo-data", help="write synthetic demo enterprises as JSON Lines, for `import`"
    )
    command.add_argument("--count", type=int, default=3000, help="how many enterprises")
    command.add_argument(
        "--seed", type=int, default=20240130, help="the same seed writes the same firms"
    )
    command.add_argument(
        "--output", type=Path, default=Path("demo-enterprises.jsonl"), help="the file to write"
    )
    command.set_defaults(run=demo_data_command)


def add_import(commands: Commands) -> None:
    """Declare `policy-match import`."""
    command = commands.add_parser(
        "import", help="store enterprise profiles from a .csv or .jsonl file"
    )
    command.add_argument("file", type=Path, help="a .csv or .jsonl file of profiles")
    command.add_argument("--synthetic", action="store_true", help="mark the rows as demo data")
    command.add_argument(
        "--changed-by",
        default=None,
        help="recorded in each firm's history (default: import:<file name>)",
    )
    command.add_argument("--errors", type=Path, default=None, help="write bad rows as JSONL")
    command.add_argument(
        "--no-progress", action="store_true", help="no progress bar (drawn on a terminal only)"
    )
    command.set_defaults(run=import_command)


def demo_data_command(args: argparse.Namespace) -> int:
    """Write the synthetic demo enterprises to a JSON Lines file."""
    from service.registry.demo import write_demo_file

    written = write_demo_file(args.output, count=args.count, seed=args.seed)
    print(f"wrote {written} synthetic demo enterprises to {args.output}")
    return 0


def import_command(args: argparse.Namespace) -> int:
    """Run `policy-match import`: store the good rows, report the bad ones by line number."""
    from sqlalchemy.exc import DBAPIError

    from service.core.clock import today
    from service.core.database import make_engine
    from service.registry.importing import database_said, import_file

    if not args.file.is_file():
        print(f"{args.file}: no such file", file=sys.stderr)
        return USAGE
    settings = get_settings()
    refused = database_refused(settings.database_url)
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
    except ValueError as e:
        print(str(e), file=sys.stderr)
        return 2
    except DBAPIError as e:  # the engine hides the parameters; only the first line is shown
        said = database_said(e)
        print(
            f"import stopped, the database failed ({said}); rows stored before stay",
            file=sys.stderr,
        )
        return 1
    finally:
        engine.dispose()
    for bad in report.bad[:50]:
        print(f"  line {bad.line}: {'; '.join(bad.problems)}", file=sys.stderr)
    if len(report.bad) > 50:
        print(f"  ... and {len(report.bad) - 50} more bad rows", file=sys.stderr)
    if args.errors:
        with args.errors.open("wb") as out:
            for bad in report.bad:
                out.write(json.dumps({"line": bad.line, "problems": bad.problems}).encode() + b"\n")
    print(
        f"stored {report.stored} enterprises ({report.created} created, {report.updated} "
        f"updated, {report.unchanged} unchanged); {len(report.bad)} bad rows"
    )
    return 1 if report.bad else 0
