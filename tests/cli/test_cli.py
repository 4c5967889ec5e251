"""The `policy-match` command line (issue 14): its version, help and defaults on every option,
exit codes for a database that is missing or not migrated (one line, no traceback), a secret
never taken from argv, and progress bars on a terminal only."""

import argparse
import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest

from service.cli import build_parser, main, output
from service.cli.output import NO_DATABASE, UNMIGRATED, USAGE
from service.core.migrate import upgrade_database
from service.core.settings import get_settings


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests read the English: the commands run in an English locale."""
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")


@pytest.fixture
def database_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """POLICY_MATCH_DATABASE_URL set per test (the settings read afresh)."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def use_database(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """The commands' database, from here on."""
    monkeypatch.setenv("POLICY_MATCH_DATABASE_URL", url)
    get_settings.cache_clear()


def commands() -> dict[str, argparse.ArgumentParser]:
    """Each command's parser, by name."""
    parser = build_parser("en")
    found = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    choices: dict[str, argparse.ArgumentParser] = found[0].choices
    return choices


def test_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    name, version = capsys.readouterr().out.split()
    assert name == "policy-match" and version[0].isdigit()


def test_every_option_has_help_and_shows_its_default() -> None:
    for name, parser in commands().items():
        text = parser.format_help()
        assert "exit codes:" in text and f"{UNMIGRATED}  the database is not migrated" in text
        for action in parser._actions:
            if action.help == argparse.SUPPRESS:
                continue
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"
            shown = action.default not in (None, False, argparse.SUPPRESS)
            if shown and action.option_strings:
                assert f"(default: {action.default})" in " ".join(text.split()), (
                    name,
                    action.dest,
                )


def test_the_main_help_lists_the_exit_codes() -> None:
    text = build_parser("en").format_help()
    for code in (0, 1, 2, NO_DATABASE, UNMIGRATED):
        assert f"  {code}  " in text


def test_hash_secret_refuses_a_secret_in_argv(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hash-secret", "s3cret-in-history"]) == USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "not take the secret as an argument" in captured.err
    assert "s3cret-in-history" not in captured.err


def test_hash_secret_reads_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("piped-secret-0001\nignored\n"))
    assert main(["hash-secret"]) == 0
    hashed = capsys.readouterr().out.strip()
    assert bcrypt.checkpw(b"piped-secret-0001", hashed.encode())


def test_hash_secret_prompts_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    asked: list[str] = []

    def getpass(prompt: str) -> str:
        asked.append(prompt)
        return "typed-secret-0001"

    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr("getpass.getpass", getpass)
    assert main(["hash-secret"]) == 0
    assert asked == ["client secret: "]
    assert bcrypt.checkpw(b"typed-secret-0001", capsys.readouterr().out.strip().encode())


@pytest.mark.parametrize("piped", ["", "short\n"])
def test_a_secret_too_short_is_one_line(
    piped: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(piped))
    assert main(["hash-secret"]) == USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["policy-match: a client secret must be 16 to 72 bytes long"]


DATABASE_COMMANDS = [
    ["import", "FILE"],
    ["publish", "--no-progress"],
    ["worker", "--drain"],
    ["prune"],
    ["serve", "--no-migrate"],
]


def _run(argv: list[str], tmp_path: Path) -> int:
    rows = tmp_path / "firms.jsonl"
    rows.write_text("", encoding="utf-8")
    return main([str(rows) if a == "FILE" else a for a in argv])


@pytest.mark.parametrize("argv", DATABASE_COMMANDS, ids=lambda a: a[0])
def test_a_missing_database_is_one_line_and_its_own_exit_code(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: None,
) -> None:
    missing = tmp_path / "nowhere" / "policy_match.db"
    use_database(monkeypatch, f"sqlite:///{missing}")
    assert _run(argv, tmp_path) == NO_DATABASE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("policy-match: no database at"), err
    assert not missing.exists()  # nothing made by asking


@pytest.mark.parametrize("argv", DATABASE_COMMANDS, ids=lambda a: a[0])
def test_an_unmigrated_database_is_one_line_and_its_own_exit_code(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: None,
) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    use_database(monkeypatch, f"sqlite:///{empty}")
    assert _run(argv, tmp_path) == UNMIGRATED
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not migrated (schema at nothing" in err[0], err
    assert "alembic upgrade head" in err[0]


def test_an_unreachable_database_is_one_line_without_the_password(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: None,
) -> None:
    use_database(monkeypatch, "postgresql+psycopg://someone:hunter2@127.0.0.1:1/nothing")
    for argv in (["prune"], ["serve"]):
        assert main(argv) == NO_DATABASE
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "cannot be reached" in err[0], err
        assert "hunter2" not in err[0] and "Traceback" not in err[0]


def test_progress_bars_are_drawn_on_a_terminal_only(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: None,
) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade_database(url)
    use_database(monkeypatch, url)
    rows = tmp_path / "firms.jsonl"
    assert main(["demo-data", "--count", "3", "--output", str(rows)]) == 0
    capsys.readouterr()
    assert main(["import", str(rows), "--synthetic"]) == 0
    assert "firms.jsonl:" not in capsys.readouterr().err  # stderr is not a terminal here
    monkeypatch.setattr(output, "on_terminal", lambda: True)
    monkeypatch.setattr("service.cli.registry.on_terminal", lambda: True)
    assert main(["import", str(rows), "--synthetic"]) == 0
    assert "firms.jsonl:" in capsys.readouterr().err  # tqdm's bar, named by the file
