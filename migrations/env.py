"""Alembic environment: the database URL and metadata come from the service's own settings."""

from alembic import context
from sqlmodel import SQLModel

import service.core.tables  # noqa: F401  (registers the tables on the metadata)
from service.core.database import make_engine
from service.core.settings import get_settings

config = context.config
target_metadata = SQLModel.metadata


def database_url() -> str:
    """The URL given with -x url=..., else the configured one."""
    return context.get_x_argument(as_dictionary=True).get("url") or get_settings().database_url


def run_offline() -> None:
    """Emit SQL without a connection."""
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Migrate a live database."""
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(
            connection=connectable, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(database_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
