"""The booking service's engines and its migration check, on the shared engine helpers
(`services_common.sql`: SQLite writers serialised with `BEGIN IMMEDIATE`, read-only work in
autocommit on PostgreSQL)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from booking_service.migrate import MIGRATIONS_DIR
from booking_service.settings import Settings
from services_common import migrations, sql
from services_common.sql import NotMigratedError, make_sync_engine, read_only

ALEMBIC_VERSION_TABLE = "booking_alembic_version"
__all__ = [
    "ALEMBIC_VERSION_TABLE",
    "NotMigratedError",
    "check_migrated",
    "head_revision",
    "make_async_engine",
    "make_sync_engine",
    "read_only",
]


def make_async_engine(settings: Settings) -> AsyncEngine:
    """The service's engine; pool sizes come from the settings (PostgreSQL only)."""
    return sql.make_async_engine(
        settings.database_url, settings.db_pool_size, settings.db_max_overflow
    )


def head_revision() -> str:
    """The newest Alembic revision shipped with this code."""
    return migrations.head(MIGRATIONS_DIR)


async def check_migrated(engine: AsyncEngine) -> None:
    """Raise `NotMigratedError` with the command to run unless the schema is at head."""
    await sql.check_migrated(
        engine, ALEMBIC_VERSION_TABLE, head_revision(), "python -m booking_service migrate"
    )
