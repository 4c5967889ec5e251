"""Migrations build the schema the models describe, on SQLite and on PostgreSQL."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import Session, SQLModel, select

import service.models  # noqa: F401  (registers the tables)
from service.config import PROJECT_ROOT
from service.db import make_engine
from service.demo import SYNTHETIC_MARK, synthetic_profiles
from service.models import Enterprise
from service.uscc import uscc_problem


def _upgrade(url: str) -> None:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.cmd_opts = None
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["x_url"] = url
    command.upgrade(config, "head", sql=False) if False else None
    engine = make_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    engine.dispose()


def test_upgrade_head_builds_what_the_models_describe(empty_database: str) -> None:
    _upgrade(empty_database)
    engine = make_engine(empty_database)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, SQLModel.metadata) == []
        assert "enterprise" in inspect(connection).get_table_names()
    engine.dispose()


def test_demo_enterprises_are_synthetic_valid_and_stored(empty_database: str) -> None:
    _upgrade(empty_database)
    profiles = synthetic_profiles(200, seed=7)
    assert len({p.uscc for p in profiles}) == 200
    assert {p.county for p in profiles} == {
        "440703",
        "440704",
        "440705",
        "440781",
        "440783",
        "440784",
        "440785",
    }
    assert {p.tier for p in profiles} == {
        "none",
        "innovative",
        "municipal",
        "provincial",
        "little_giant",
    }
    engine = make_engine(empty_database)
    with Session(engine) as session:
        for p in profiles:
            assert p.uscc is not None and uscc_problem(p.uscc) is None
            session.add(Enterprise.from_profile(p, synthetic=True))
        session.commit()
        stored = session.exec(select(Enterprise)).all()
        assert len(stored) == 200
        assert all(e.name and e.name.startswith(SYNTHETIC_MARK) and e.synthetic for e in stored)
    engine.dispose()
