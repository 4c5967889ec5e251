"""What the commands share: the exit codes, the help's layout in the command's language, lines
said in that language, a policies folder loaded (or its problems printed on stderr), the database
checked before use, and progress bars on a terminal only."""

import argparse
import sys
from pathlib import Path
from typing import TypeAlias

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from service.core.i18n import Language, Text, message, translate
from service.matching.cases import load_checked_catalogue
from service.policy.catalogue import Catalogue, CatalogueError, load_catalogue

# what `add_subparsers` returns: each concern's module adds its commands to it
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

OK = 0
FAILED = 1  # the work failed: a policy case, bad rows in an import, the database refused
USAGE = 2  # the command line is wrong (argparse's own code)
NO_DATABASE = 3  # the database is missing or cannot be reached
UNMIGRATED = 4  # the database is there but its schema is not the newest


def exit_codes(language: Language) -> str:
    """The help's epilog: each exit code and what it means, in `language`."""
    lines = [
        (OK, message("done")),
        (FAILED, message("failed (a policy case, bad rows, the database refused a write)")),
        (USAGE, message("the command line is wrong")),
        (
            NO_DATABASE,
            message("the database is missing or cannot be reached (POLICY_MATCH_DATABASE_URL)"),
        ),
        (
            UNMIGRATED,
            message("the database is not migrated: run `alembic upgrade head` (`serve` migrates)"),
        ),
    ]
    heading = message("exit codes:").translate(language)
    return "\n".join([heading, *(f"  {code}  {text.translate(language)}" for code, text in lines)])


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Each option's default shown after its help, in the command's language (not the empty
    ones: a flag's False, None where the help says what is used instead); the epilog's lines
    kept as written."""

    language: Language = "en"

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or not action.help:
            return action.help
        if action.default is argparse.SUPPRESS or "%(default)" in action.help:
            return action.help
        if not (
            action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE)
        ):
            return action.help
        # argparse fills `%(default)s` in when the help is drawn
        shown = message("(default: {default})", default="%(default)s").translate(self.language)
        return f"{action.help} {shown}"


def help_formatter(language: Language) -> type[HelpFormatter]:
    """The help's layout with its words in `language`."""
    return type("HelpFormatter", (HelpFormatter,), {"language": language})


def say(text: Text, language: Language, *, err: bool = False, flush: bool = False) -> None:
    """One line for a person, in the command's language: on stdout, or stderr with `err`."""
    print(translate(text, language), file=sys.stderr if err else sys.stdout, flush=flush)


def on_terminal() -> bool:
    """Whether stderr is a terminal: progress bars are drawn there only, never into a log."""
    return sys.stderr.isatty()


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "POLICY_MATCH_DATABASE_URL"


def database_problem(url: str, *, must_be_migrated: bool = True) -> tuple[int, Text] | None:
    """None if the database at `url` can be used; else an exit code and one line saying why."""
    from service.core.database import make_engine
    from service.core.migrate import head_revision, schema_revision

    shown = _shown(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        return NO_DATABASE, message("POLICY_MATCH_DATABASE_URL is not a database URL")
    file = parsed.database
    sqlite_file = parsed.drivername.startswith("sqlite") and file and file != ":memory:"
    # SQLite would make an empty file: a path that names none is a database that is missing
    if sqlite_file and must_be_migrated and not Path(str(file)).is_file():
        return NO_DATABASE, message(
            "no database at {file}: create it with `alembic upgrade head` "
            "(or `policy-match serve`, which migrates), or set POLICY_MATCH_DATABASE_URL",
            file=file,
        )
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            revision = schema_revision(connection)
    except DBAPIError as e:
        said = str(e.orig).strip().splitlines()[0] if str(e.orig).strip() else type(e).__name__
        return NO_DATABASE, message(
            "the database at {url} cannot be reached: {said}", url=shown, said=said
        )
    finally:
        engine.dispose()
    head = head_revision()
    if must_be_migrated and revision != head:
        return UNMIGRATED, message(
            "the database at {url} is not migrated (schema at {revision}, newest {head}): "
            "run `alembic upgrade head`, or `policy-match serve`, which migrates",
            url=shown,
            revision=revision or message("nothing"),
            head=head,
        )
    return None


def database_refused(url: str, language: Language, *, must_be_migrated: bool = True) -> int | None:
    """None if the database can be used; else its exit code, once the reason is on stderr."""
    problem = database_problem(url, must_be_migrated=must_be_migrated)
    if problem is None:
        return None
    code, line = problem
    say(f"policy-match: {translate(line, language)}", language, err=True)
    return code


def print_problems(policies_dir: Path, error: CatalogueError, language: Language) -> None:
    """What is wrong with a policies folder, one problem a line, on stderr."""
    count = len(error.problems)
    say(
        message("FAILED: {count} problem(s) in {folder}", count=count, folder=policies_dir),
        language,
        err=True,
    )
    for problem in error.problems:
        say(f"  {translate(problem, language)}", language, err=True)


def loaded(policies_dir: Path, language: Language) -> Catalogue | None:
    """The policies folder's catalogue, or None once its problems are printed."""
    try:
        return load_catalogue(policies_dir)
    except CatalogueError as e:
        print_problems(policies_dir, e, language)
        return None


def checked(policies_dir: Path, language: Language) -> Catalogue | None:
    """The folder's catalogue with its cases passed, or None once its problems are printed."""
    try:
        return load_checked_catalogue(policies_dir)
    except CatalogueError as e:
        print_problems(policies_dir, e, language)
        return None
