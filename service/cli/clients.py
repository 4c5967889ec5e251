"""`policy-match demo-clients`, `hash-secret` and `new-secret-key`: clients and their secrets."""

import argparse
import getpass
import json
import sys

from service.api.clients import hash_client_secret
from service.cli.output import USAGE, Commands, say
from service.core.i18n import Language, message, translate

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


def add_demo_clients(commands: Commands, language: Language) -> None:
    """Declare `policy-match demo-clients`."""
    command = commands.add_parser(
        "demo-clients",
        help=message("print POLICY_MATCH_AUTH_CLIENTS for the demo (development only)").translate(
            language
        ),
    )
    command.set_defaults(run=demo_clients_command)


def add_new_secret_key(commands: Commands, language: Language) -> None:
    """Declare `policy-match new-secret-key`."""
    command = commands.add_parser(
        "new-secret-key",
        help=message("a Fernet key for POLICY_MATCH_PUSH_SECRET_KEYS").translate(language),
    )
    command.set_defaults(run=new_secret_key_command)


def add_hash_secret(commands: Commands, language: Language) -> None:
    """Declare `policy-match hash-secret`."""
    command = commands.add_parser(
        "hash-secret",
        help=message(
            "bcrypt a client secret for AUTH_CLIENTS (typed at a prompt, or piped on stdin)"
        ).translate(language),
        description=message(
            "Print the bcrypt hash of a client secret. The secret is typed at a prompt "
            "(not echoed) or piped on stdin (its first line), never given as an argument: an "
            "argument stays in the shell's history and shows in the process list."
        ).translate(language),
    )
    # taken only to refuse it with a clear message, rather than argparse's "unrecognized"
    command.add_argument("secret", nargs="?", help=argparse.SUPPRESS)
    command.set_defaults(run=hash_secret_command)


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


def demo_clients_command(args: argparse.Namespace) -> int:
    """Print the demo clients as POLICY_MATCH_AUTH_CLIENTS takes them."""
    print(json.dumps(demo_clients()))
    return 0


def read_secret(language: Language) -> str:
    """The secret typed at a prompt (a terminal) or the first line piped on stdin."""
    if sys.stdin.isatty():
        return getpass.getpass(message("client secret: ").translate(language))
    return sys.stdin.readline().rstrip("\r\n")


def hash_secret_command(args: argparse.Namespace) -> int:
    """Print the bcrypt hash of a client secret read from a prompt or stdin, never argv."""
    language: Language = args.lang
    if args.secret is not None:
        refused = message(
            "hash-secret does not take the secret as an argument (the shell's history and the "
            "process list would keep it): type it at the prompt, or pipe it: "
            '`printf %s "$SECRET" | policy-match hash-secret`'
        )
        say(f"policy-match: {refused.translate(language)}", language, err=True)
        return USAGE
    try:
        hashed = hash_client_secret(read_secret(language))
    except ValueError as e:  # its length: 16 to 72 bytes
        said = translate(e.args[0] if e.args else str(e), language)
        say(f"policy-match: {said}", language, err=True)
        return USAGE
    print(hashed)
    return 0


def new_secret_key_command(args: argparse.Namespace) -> int:
    """Print a new Fernet key."""
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())
    return 0
