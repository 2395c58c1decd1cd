"""Alembic environment: runs the admin app's migrations on the configured database."""

from __future__ import annotations

from alembic import context

from admin.migrate import ALEMBIC_VERSION_TABLE
from admin.tables import metadata
from services_common.sql import make_sync_engine

config = context.config


def run_migrations_online() -> None:
    engine = make_sync_engine(config.attributes["database_url"])
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=ALEMBIC_VERSION_TABLE,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
