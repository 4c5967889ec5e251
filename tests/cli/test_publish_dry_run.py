"""`policy-match publish --dry-run`: the impact preview printed in the command's language,
exit 0, nothing written, no progress bar off a terminal."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from service.cli import main
from service.cli.output import USAGE
from service.core.clock import today
from service.core.database import make_engine, write_transaction
from service.core.logs import mask_credit_code
from service.core.migrate import upgrade_database
from service.core.settings import get_settings
from service.policy.profile import Profile
from service.registry.publication import publish
from service.registry.store import store_profile
from tests.factories import firm, real_catalogue
from tests.policy_copies import POLICIES, copy_policies
from tests.preview_edit import CHANGED, change_one_measure
from tests.registry.test_preview import row_counts

REAL = real_catalogue()


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A database of municipal and innovative firms stored today, as the commands' database."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade_database(url)
    monkeypatch.setenv("POLICY_MATCH_DATABASE_URL", url)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    engine = make_engine(url)
    with write_transaction(engine) as connection:
        publish(connection, REAL, by="test")
        for tier in ("municipal", "innovative", "provincial"):
            profile = Profile.model_validate(firm(tier=tier, tier_valid_until="2099-12-31"))
            store_profile(connection, REAL, profile, changed_by="test", day=today())
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def test_a_dry_run_prints_the_moved_firms_and_writes_nothing(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changed = copy_policies(tmp_path)
    change_one_measure(changed)
    with engine.connect() as connection:
        before = row_counts(connection)
    code = main(
        [
            "--lang",
            "en",
            "publish",
            "--dry-run",
            "--policies",
            str(changed),
            "--against",
            str(POLICIES),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    with engine.connect() as connection:
        assert row_counts(connection) == before
    assert "nothing was written" in out and "over 3 stored firm(s)" in out
    assert f"{CHANGED} Brand cultivation and brand-management services (changed)" in out
    assert "1 firm(s) would gain it:" in out
    assert "1 firm(s) would lose it:" in out
    assert "1 measure.matched, 1 measure.unmatched" in out
    assert "firm/s" not in err and "%" not in err  # no progress bar off a terminal
    with engine.connect() as connection:
        codes = [r.uscc for r in connection.exec_driver_sql("SELECT uscc FROM enterprise")]
    assert sum(mask_credit_code(c) in out for c in codes) == 2  # the two moved, masked


def test_a_dry_run_speaks_simplified_chinese_by_default_and_traditional_on_request(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changed = copy_policies(tmp_path)
    change_one_measure(changed)
    arguments = ["publish", "--dry-run", "--policies", str(changed), "--against", str(POLICIES)]
    assert main(arguments) == 0
    assert "品牌培育和运营专业服务" in capsys.readouterr().out
    assert main(["--lang", "zh-Hant", *arguments]) == 0
    assert "品牌培育和運營專業服務" in capsys.readouterr().out


def test_without_the_catalogue_in_force_a_changed_folder_is_a_usage_error(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changed = copy_policies(tmp_path)
    change_one_measure(changed)
    with engine.connect() as connection:
        before = row_counts(connection)
    assert main(["--lang", "en", "publish", "--dry-run", "--policies", str(changed)]) == USAGE
    assert "--against" in capsys.readouterr().err
    unchanged = main(["--lang", "en", "publish", "--dry-run", "--policies", str(POLICIES)])
    assert unchanged == 0
    assert "no measure is added, removed or changed" in capsys.readouterr().out
    with engine.connect() as connection:
        assert row_counts(connection) == before
