"""`policy-match demo-clients`, `hash-secret` and `new-secret-key`: clients and their secrets."""

import argparse
import json

from service.api.clients import hash_client_secret
from service.cli.output import Commands

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


def add_demo_clients(commands: Commands) -> None:
    """Declare `policy-match demo-clients`."""
    command = commands.add_parser(
        "demo-clients", help="print POLICY_MATCH_AUTH_CLIENTS for the demo (development only)"
    )
    command.set_defaults(run=demo_clients_command)


def add_new_secret_key(commands: Commands) -> None:
    """Declare `policy-match new-secret-key`."""
    command = commands.add_parser(
        "new-secret-key", help="a Fernet key for POLICY_MATCH_PUSH_SECRET_KEYS"
    )
    command.set_defaults(run=new_secret_key_command)


def add_hash_secret(commands: Commands) -> None:
    """Declare `policy-match hash-secret`."""
    command = commands.add_parser("hash-secret", help="bcrypt a client secret for AUTH_CLIENTS")
    command.add_argument("secret")
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


def hash_secret_command(args: argparse.Namespace) -> int:
    """Print the bcrypt hash of a client secret."""
    print(hash_client_secret(args.secret))
    return 0


def new_secret_key_command(args: argparse.Namespace) -> int:
    """Print a new Fernet key."""
    from cryptography.fernet import Fernet

    print(Fernet.generate_key().decode())
    return 0
