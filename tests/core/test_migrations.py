"""Migrations build the schema the models describe, on SQLite and on PostgreSQL."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import service.core.tables  # noqa: F401  (registers the tables)
from service.core.database import make_engine
from service.core.migrate import alembic_config, upgrade_database
from service.policy.uscc import uscc_problem
from service.registry.demo import SYNTHETIC_MARK, synthetic_profiles


def test_upgrade_head_builds_what_the_models_describe(empty_database: str) -> None:
    upgrade_database(empty_database)
    engine = make_engine(empty_database)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, SQLModel.metadata) == []
        assert {"enterprise", "enterprise_version", "bank_consent", "disclosure"} <= set(
            inspect(connection).get_table_names()
        )
    engine.dispose()


def test_downgrade_to_nothing_and_up_again(empty_database: str) -> None:
    upgrade_database(empty_database)
    engine = make_engine(empty_database)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade_database(empty_database)


def test_demo_rows_of_the_first_revision_do_not_block_the_upgrade(empty_database: str) -> None:
    upgrade_database(empty_database, "0001")
    engine = make_engine(empty_database)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO enterprise (uscc, county, profile, synthetic, created_at, updated_at)"
                " VALUES ('91440781MA4W6K2L1X', '440781', '{}', true, :t, :t)"
            ),
            {"t": "2026-11-27 00:00:00"},
        )
    engine.dispose()
    upgrade_database(empty_database)


def test_demo_enterprises_are_synthetic_and_valid() -> None:
    profiles = synthetic_profiles(200, seed=7)
    assert len({p.uscc for p in profiles}) == 200
    assert all(p.uscc is not None and uscc_problem(p.uscc) is None for p in profiles)
    assert all(p.name and p.name.startswith(SYNTHETIC_MARK) for p in profiles)
