"""The `policy-match` command: check and publish the policies, import firms, run a push worker,
prune the push feed."""

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

from service.api.clients import hash_client_secret
from service.core.settings import get_settings
from service.matching.cases import run_cases
from service.policy.catalogue import Catalogue, CatalogueError, load_catalogue


def print_problems(policies_dir: Path, error: CatalogueError) -> None:
    """What is wrong with a policies folder, one problem a line, on stderr."""
    print(f"FAILED: {len(error.problems)} problem(s) in {policies_dir}", file=sys.stderr)
    for problem in error.problems:
        print(f"  {problem}", file=sys.stderr)


def loaded(policies_dir: Path) -> Catalogue | None:
    """The policies folder's catalogue, or None once its problems are printed."""
    try:
        return load_catalogue(policies_dir)
    except CatalogueError as e:
        print_problems(policies_dir, e)
        return None


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


DEMO_CLIENTS = (  # (client_id, secret, scopes, bank_id): published in the README, demo only
    (
        "demo-platform",
        "demo-platform-secret-0001",
        ["match", "enterprises:read", "enterprises:write", "push"],
        None,
    ),
    ("demo-bank-1", "demo-bank-secret-0001", ["eligibility:read"], "bank-demo-1"),
    ("demo-admin", "demo-admin-secret-0001", ["catalogue:admin"], None),
    ("demo-auditor", "demo-auditor-secret-0001", ["audit:read"], None),
    ("demo-stats", "demo-stats-secret-0001", ["stats:read"], None),
)


def demo_clients() -> list[dict[str, object]]:
    """The demo's token-endpoint clients, with their secrets hashed."""
    return [
        {
            "client_id": cid,
            "secret_hash": hash_client_secret(secret, rounds=10),
            "scopes": scopes,
            "bank_id": bank,
        }
        for cid, secret, scopes, bank in DEMO_CLIENTS
    ]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `policy-match` command."""
    parser = argparse.ArgumentParser(prog="policy-match", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check_cmd = commands.add_parser("check", help="validate policies/ and run its test cases")
    check_cmd.add_argument("--policies", type=Path, default=None, help="policies folder")
    demo_cmd = commands.add_parser(
        "demo-data", help="write synthetic demo enterprises as JSON Lines, for `import`"
    )
    demo_cmd.add_argument("--count", type=int, default=3000)
    demo_cmd.add_argument("--seed", type=int, default=20240130)
    demo_cmd.add_argument("--output", type=Path, default=Path("demo-enterprises.jsonl"))
    import_cmd = commands.add_parser(
        "import", help="store enterprise profiles from a .csv or .jsonl file"
    )
    import_cmd.add_argument("file", type=Path)
    import_cmd.add_argument("--synthetic", action="store_true", help="mark the rows as demo data")
    import_cmd.add_argument("--changed-by", default=None, help="recorded in each firm's history")
    import_cmd.add_argument("--errors", type=Path, default=None, help="write bad rows as JSONL")
    import_cmd.add_argument("--no-progress", action="store_true")
    worker_cmd = commands.add_parser(
        "worker", help="deliver push events and keep stored matches current"
    )
    worker_cmd.add_argument("--name", default=None, help="recorded with each delivery attempt")
    worker_cmd.add_argument(
        "--drain", action="store_true", help="deliver what is due now, then exit"
    )
    publish_cmd = commands.add_parser(
        "publish", help="put the policies folder in force and re-match every stored firm"
    )
    publish_cmd.add_argument("--policies", type=Path, default=None, help="policies folder")
    publish_cmd.add_argument("--by", default="policy-match publish", help="who publishes")
    publish_cmd.add_argument("--no-progress", action="store_true")
    serve_cmd = commands.add_parser(
        "serve", help="check the policies, migrate the database, then serve (the image's command)"
    )
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve_cmd.add_argument("--no-migrate", action="store_true", help="the schema is kept apart")
    review_cmd = commands.add_parser(
        "review", help="write docs/fidelity.md: every measure, its gates and their sources"
    )
    review_cmd.add_argument("--policies", type=Path, default=None, help="policies folder")
    review_cmd.add_argument("--output", type=Path, default=None, help="default docs/fidelity.md")
    review_cmd.add_argument(
        "--check", action="store_true", help="write nothing; fail if the file differs"
    )
    from service.cli.prune_command import add_prune_command, prune_command

    add_prune_command(commands)
    commands.add_parser(
        "demo-clients", help="print POLICY_MATCH_AUTH_CLIENTS for the demo (development only)"
    )
    commands.add_parser("new-secret-key", help="a Fernet key for POLICY_MATCH_PUSH_SECRET_KEYS")
    hash_cmd = commands.add_parser("hash-secret", help="bcrypt a client secret for AUTH_CLIENTS")
    hash_cmd.add_argument("secret")
    args = parser.parse_args(argv)
    if args.command == "check":
        return check(args.policies or get_settings().policies_dir)
    if args.command == "review":
        return review_command(args)
    if args.command == "demo-clients":
        print(json.dumps(demo_clients()))
        return 0
    if args.command == "new-secret-key":
        from cryptography.fernet import Fernet

        print(Fernet.generate_key().decode())
        return 0
    if args.command == "hash-secret":
        print(hash_client_secret(args.secret))
        return 0
    if args.command == "demo-data":
        from service.registry.demo import write_demo_file

        written = write_demo_file(args.output, count=args.count, seed=args.seed)
        print(f"wrote {written} synthetic demo enterprises to {args.output}")
        return 0
    if args.command == "import":
        return import_command(args)
    if args.command == "prune":
        return prune_command(args)
    if args.command == "serve":
        return serve_command(args)
    if args.command in ("worker", "publish"):
        from service.cli.push_commands import publish_command, worker_command

        return worker_command(args) if args.command == "worker" else publish_command(args)
    return 2


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


def serve_command(args: argparse.Namespace) -> int:
    """Refuse a broken catalogue, migrate, then serve with uvicorn in this process."""
    settings = get_settings()
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the JSON log lines
        if check(settings.policies_dir) != 0:
            return 1
    if not args.no_migrate:
        from service.core.migrate import upgrade_database

        upgrade_database(settings.database_url)
    from service.api.server import serve

    serve(
        "service.main:app",
        args.host,
        args.port,
        max_head_bytes=settings.max_header_bytes,
        proxies=settings.trusted_proxies,
    )
    return 0


def import_command(args: argparse.Namespace) -> int:
    """Run `policy-match import`: store the good rows, report the bad ones by line number."""
    from sqlalchemy.exc import DBAPIError

    from service.api.deps import today
    from service.core.database import make_engine
    from service.registry.importing import database_said, import_file

    if not args.file.is_file():
        print(f"{args.file}: no such file", file=sys.stderr)
        return 2
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        report = import_file(
            args.file,
            engine,
            load_catalogue(settings.policies_dir),
            changed_by=args.changed_by or f"import:{args.file.name}",
            day=today(),
            synthetic=args.synthetic,
            progress=not args.no_progress,
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
