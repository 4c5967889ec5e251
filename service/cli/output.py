"""What the commands share: the exit codes, the help's layout, a policies folder loaded (or its
problems printed on stderr), the database checked before use, and progress bars on a terminal
only."""

import argparse
import sys
from pathlib import Path
from typing import TypeAlias

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from service.matching.cases import load_checked_catalogue
from service.policy.catalogue import Catalogue, CatalogueError, load_catalogue

# what `add_subparsers` returns: each concern's module adds its commands to it
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

OK = 0
FAILED = 1  # the work failed: a policy case, bad rows in an import, the database refused
USAGE = 2  # the command line is wrong (argparse's own code)
NO_DATABASE = 3  # the database is missing or cannot be reached
UNMIGRATED = 4  # the database is there but its schema is not the newest
EXIT_CODES = f"""exit codes:
  {OK}  done
  {FAILED}  failed (a policy case, bad rows, the database refused a write)
  {USAGE}  the command line is wrong
  {NO_DATABASE}  the database is missing or cannot be reached (POLICY_MATCH_DATABASE_URL)
  {UNMIGRATED}  the database is not migrated: run `alembic upgrade head` (`serve` migrates)
"""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Each option's default shown after its help (not the empty ones: a flag's False, None
    where the help says what is used instead); the epilog's lines kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def on_terminal() -> bool:
    """Whether stderr is a terminal: progress bars are drawn there only, never into a log."""
    return sys.stderr.isatty()


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "POLICY_MATCH_DATABASE_URL"


def database_problem(url: str, *, must_be_migrated: bool = True) -> tuple[int, str] | None:
    """None if the database at `url` can be used; else an exit code and one line saying why."""
    from service.core.database import make_engine
    from service.core.migrate import head_revision, schema_revision

    shown = _shown(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        return NO_DATABASE, "POLICY_MATCH_DATABASE_URL is not a database URL"
    file = parsed.database
    sqlite_file = parsed.drivername.startswith("sqlite") and file and file != ":memory:"
    # SQLite would make an empty file: a path that names none is a database that is missing
    if sqlite_file and must_be_migrated and not Path(str(file)).is_file():
        return NO_DATABASE, (
            f"no database at {file}: create it with `alembic upgrade head` "
            "(or `policy-match serve`, which migrates), or set POLICY_MATCH_DATABASE_URL"
        )
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            revision = schema_revision(connection)
    except DBAPIError as e:
        said = str(e.orig).strip().splitlines()[0] if str(e.orig).strip() else type(e).__name__
        return NO_DATABASE, f"the database at {shown} cannot be reached: {said}"
    finally:
        engine.dispose()
    head = head_revision()
    if must_be_migrated and revision != head:
        return UNMIGRATED, (
            f"the database at {shown} is not migrated (schema at {revision or 'nothing'}, "
            f"newest {head}): run `alembic upgrade head`, or `policy-match serve`, which migrates"
        )
    return None


def database_refused(url: str, *, must_be_migrated: bool = True) -> int | None:
    """None if the database can be used; else its exit code, once the reason is on stderr."""
    problem = database_problem(url, must_be_migrated=must_be_migrated)
    if problem is None:
        return None
    code, line = problem
    print(f"policy-match: {line}", file=sys.stderr)
    return code


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
