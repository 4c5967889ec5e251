"""`policy-match serve`: the catalogue checked, the database migrated, then the service served."""

import argparse
import contextlib
import os
import sys

from service.cli.catalogue import check
from service.cli.output import Commands, database_refused
from service.core.i18n import Language, message
from service.core.settings import get_settings


def add_serve(commands: Commands, language: Language) -> None:
    """Declare `policy-match serve`."""
    command = commands.add_parser(
        "serve",
        help=message(
            "check the policies, migrate the database, then serve (the image's command)"
        ).translate(language),
    )
    command.add_argument(
        "--host", default="127.0.0.1", help=message("the address to listen on").translate(language)
    )
    command.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT", "8000")),
        help=message("the port to listen on (the PORT variable, if set)").translate(language),
    )
    command.add_argument(
        "--no-migrate",
        action="store_true",
        help=message(
            "do not migrate: the schema is kept apart (it must be the newest already)"
        ).translate(language),
    )
    command.set_defaults(run=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    """Refuse a broken catalogue, migrate, then serve with uvicorn in this process."""
    language: Language = args.lang
    settings = get_settings()
    # with --no-migrate the schema must be the newest; else the database must be reachable
    refused = database_refused(settings.database_url, language, must_be_migrated=args.no_migrate)
    if refused is not None:
        return refused
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries only the JSON log lines
        if check(settings.policies_dir, language) != 0:
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
