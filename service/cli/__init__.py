"""The `policy-match` command: check and publish the policies, import firms, run a push worker,
prune the push feed."""

import argparse
from importlib.metadata import PackageNotFoundError, version

from service.cli import catalogue, clients, push, registry, serving
from service.cli.output import EXIT_CODES, HelpFormatter


def _version() -> str:
    try:
        return version("policy-match")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The command line: every command, each option with its help and default."""
    parser = argparse.ArgumentParser(
        prog="policy-match", description=__doc__, epilog=EXIT_CODES, formatter_class=HelpFormatter
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}", help="print the version"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # in the order `--help` lists them; each module declares its commands and runs them
    catalogue.add_check(commands)
    registry.add_demo_data(commands)
    registry.add_import(commands)
    push.add_worker(commands)
    catalogue.add_publish(commands)
    serving.add_serve(commands)
    catalogue.add_review(commands)
    push.add_prune(commands)
    clients.add_demo_clients(commands)
    clients.add_new_secret_key(commands)
    clients.add_hash_secret(commands)
    for command in commands.choices.values():
        command.formatter_class = HelpFormatter
        command.epilog = EXIT_CODES
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `policy-match` command."""
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code
