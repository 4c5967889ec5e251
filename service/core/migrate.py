"""Bring a database to the newest schema with the project's alembic migrations."""

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from service.core.database import make_engine
from service.core.settings import PROJECT_ROOT


def alembic_config() -> Config:
    """The project's alembic configuration, usable from any working folder."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Run every migration up to `revision` on the database at `url`."""
    config = alembic_config()
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision of the project's migrations."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def schema_revision(connection: Connection) -> str | None:
    """The database's alembic revision (None: not migrated)."""
    return MigrationContext.configure(connection).get_current_revision()
