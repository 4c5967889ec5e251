"""The `policy-match` command: check and publish the policies, import firms, run a push worker,
prune the push feed; what it says to a person is in the language `--lang` or the locale picks."""

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version

from service.cli import catalogue, clients, push, registry, serving
from service.cli.output import exit_codes, help_formatter
from service.core.i18n import LANGUAGES, Language, command_language, message


def _version() -> str:
    try:
        return version("policy-match")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def language_of(argv: Sequence[str], environ: Mapping[str, str]) -> Language:
    """The language of a command line: its `--lang`, else LC_ALL/LC_MESSAGES/LANG, else zh-Hans.

    Read before the parser is built, so that the help is in it too; a `--lang` that is not one
    of ours (or has no value) is left to the parser to refuse."""
    early = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    early.add_argument("--lang", default=None)
    try:
        given = early.parse_known_args(list(argv))[0].lang
    except argparse.ArgumentError:
        given = None
    return command_language(given if given in LANGUAGES else None, environ)


def build_parser(language: Language) -> argparse.ArgumentParser:
    """The command line in `language`: every command, each option with its help and default."""
    formatter = help_formatter(language)
    epilog = exit_codes(language)
    parser = argparse.ArgumentParser(
        prog="policy-match",
        description=message(
            "The `policy-match` command: check and publish the policies, import firms, run a "
            "push worker, prune the push feed."
        ).translate(language),
        epilog=epilog,
        formatter_class=formatter,
        add_help=False,
    )
    add_common_options(parser, language, top=True)
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {_version()}",
        help=message("print the version").translate(language),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # in the order `--help` lists them; each module declares its commands and runs them
    catalogue.add_check(commands, language)
    registry.add_demo_data(commands, language)
    registry.add_import(commands, language)
    push.add_worker(commands, language)
    catalogue.add_publish(commands, language)
    serving.add_serve(commands, language)
    catalogue.add_review(commands, language)
    push.add_prune(commands, language)
    clients.add_demo_clients(commands, language)
    clients.add_new_secret_key(commands, language)
    clients.add_hash_secret(commands, language)
    for command in commands.choices.values():
        command.formatter_class = formatter
        command.epilog = epilog
        add_common_options(command, language, top=False)
    return parser


def add_common_options(parser: argparse.ArgumentParser, language: Language, *, top: bool) -> None:
    """`-h` and `--lang`, with their help in `language`; a command takes `--lang` after its
    name too (its default suppressed there, so that it never overrides the one given before)."""
    show_help = message("show this help and exit").translate(language)
    if top:
        parser.add_argument(
            "-h", "--help", action="help", default=argparse.SUPPRESS, help=show_help
        )
    else:  # argparse gave each command its -h already: only its words change
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                action.help = show_help
    parser.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=None if top else argparse.SUPPRESS,
        help=message(
            "the language of the messages (default: LC_ALL, LC_MESSAGES or LANG: zh_CN is "
            "zh-Hans, zh_TW and zh_HK are zh-Hant, en_US is en; C, POSIX or unset is zh-Hans)"
        ).translate(language),
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `policy-match` command."""
    given = sys.argv[1:] if argv is None else argv
    language = language_of(given, os.environ)
    args = build_parser(language).parse_args(given)
    args.lang = language
    code: int = args.run(args)
    return code
