"""Alembic environment: runs the booking service's migrations on the configured database."""

from __future__ import annotations

from alembic import context

from booking_service.database import ALEMBIC_VERSION_TABLE, make_sync_engine
from booking_service.tables import metadata

config = context.config


def run_migrations_online() -> None:
    """Apply migrations inside one transaction per run."""
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
