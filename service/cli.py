"""The `policy-match` command: check the policies, load demo data, mint development tokens."""

import argparse
import json
import sys
from pathlib import Path

from service.catalogue import CatalogueError, load_catalogue
from service.clients import hash_client_secret
from service.config import get_settings
from service.policy_cases import run_cases


def check(policies_dir: Path) -> int:
    """Validate every policy file and run every case; print what fails, file and case named."""
    try:
        catalogue = load_catalogue(policies_dir)
    except CatalogueError as e:
        print(f"FAILED: {len(e.problems)} problem(s) in {policies_dir}", file=sys.stderr)
        for problem in e.problems:
            print(f"  {problem}", file=sys.stderr)
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
        f"{len(catalogue.comparisons)} distinct comparisons; catalogue version {catalogue.version}"
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
    demo_cmd = commands.add_parser("demo-data", help="store synthetic demo enterprises")
    demo_cmd.add_argument("--count", type=int, default=3000)
    demo_cmd.add_argument("--seed", type=int, default=20240130)
    commands.add_parser(
        "demo-clients", help="print POLICY_MATCH_AUTH_CLIENTS for the demo (development only)"
    )
    hash_cmd = commands.add_parser("hash-secret", help="bcrypt a client secret for AUTH_CLIENTS")
    hash_cmd.add_argument("secret")
    args = parser.parse_args(argv)
    if args.command == "check":
        return check(args.policies or get_settings().policies_dir)
    if args.command == "demo-clients":
        print(json.dumps(demo_clients()))
        return 0
    if args.command == "hash-secret":
        print(hash_client_secret(args.secret))
        return 0
    if args.command == "demo-data":
        from service.demo import store_demo_enterprises

        stored = store_demo_enterprises(count=args.count, seed=args.seed)
        print(f"stored {stored} synthetic demo enterprises (marked synthetic)")
        return 0
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
