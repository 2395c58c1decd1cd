"""Database engines and transactions, with the behaviour that must match on both backends.

On PostgreSQL concurrent writers are kept apart by exclusion constraints; on SQLite every
transaction starts with `BEGIN IMMEDIATE`, so writers are serialised and the overlap check
made inside the transaction cannot be raced.
"""
from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from booking_service.migrate import alembic_config
from booking_service.settings import Settings, async_database_url, sync_database_url

ALEMBIC_VERSION_TABLE = "booking_alembic_version"
READ_ONLY_OPTION = "booka_read_only"


def _serialise_sqlite_writes(sync_engine: Engine) -> None:
    """Take SQLite's write lock at BEGIN and wait for it rather than failing at once."""

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # noqa: ANN001
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn) -> None:  # noqa: ANN001
        read_only = conn.get_execution_options().get(READ_ONLY_OPTION, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_async_engine(settings: Settings) -> AsyncEngine:
    """The service's engine; pool sizes come from the settings (PostgreSQL only)."""
    url = async_database_url(settings.database_url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _serialise_sqlite_writes(engine.sync_engine)
        return engine
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
    )


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """The same engine and pool for work that only reads.

    On PostgreSQL it runs in autocommit: under READ COMMITTED every statement has its own
    snapshot anyway, and skipping BEGIN and ROLLBACK saves two round trips per read. On
    SQLite it begins with a plain (deferred) BEGIN, so readers in WAL mode neither take nor
    wait for the write lock.
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine.execution_options(**{READ_ONLY_OPTION: True})


def make_sync_engine(database_url: str) -> Engine:
    """A blocking engine for migrations and command-line tools."""
    url = sync_database_url(database_url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        _serialise_sqlite_writes(engine)
        return engine
    return create_engine(url)


class NotMigratedError(RuntimeError):
    """The database schema is missing or older than this code."""


def head_revision() -> str:
    """The newest Alembic revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() or ""


async def check_migrated(engine: AsyncEngine) -> None:
    """Raise `NotMigratedError` with the command to run unless the schema is at head."""
    expected = head_revision()
    async with engine.connect() as conn:
        has_table = await conn.run_sync(lambda sync: inspect(sync).has_table(ALEMBIC_VERSION_TABLE))
        current = None
        if has_table:
            current = (await conn.execute(text(f"SELECT version_num FROM {ALEMBIC_VERSION_TABLE}"))).scalar()
    if current != expected:
        raise NotMigratedError(
            f"the database is not migrated (schema revision {current or 'none'}, code needs {expected}); "
            "run `make migrate` or `python -m booking_service migrate` first"
        )
