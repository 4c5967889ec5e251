"""What the commands share: a policies folder loaded, or its problems printed on stderr."""

import argparse
import sys
from pathlib import Path
from typing import TypeAlias

from service.matching.cases import load_checked_catalogue
from service.policy.catalogue import Catalogue, CatalogueError, load_catalogue

# what `add_subparsers` returns: each concern's module adds its commands to it
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


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


def checked(policies_dir: Path) -> Catalogue | None:
    """The folder's catalogue with its cases passed, or None once its problems are printed."""
    try:
        return load_checked_catalogue(policies_dir)
    except CatalogueError as e:
        print_problems(policies_dir, e)
        return None
