"""The `policy-match` command: check and publish the policies, import firms, run a push worker,
prune the push feed."""

import argparse

from service.cli import catalogue, clients, push, registry, serving


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `policy-match` command."""
    parser = argparse.ArgumentParser(prog="policy-match", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
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
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code
