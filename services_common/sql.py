"""Database engines and migration checks shared by the services (booking service, admin app).

Imported only from the services' environment (SQLAlchemy 2); the Rasa environment never
loads it. The behaviour that must match on both backends lives here: on PostgreSQL
concurrent writers are kept apart by constraints; on SQLite every writing transaction
starts with `BEGIN IMMEDIATE`, so writers are serialised and a check made inside the
transaction cannot be raced.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, Engine, TypeDecorator, create_engine, event, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

READ_ONLY_OPTION = "booka_read_only"
# Constraint names every service's tables use, so migrations can name what they change.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def sync_database_url(url: str) -> str:
    """The SQLAlchemy URL for blocking use (migrations, CLI): psycopg 3 for PostgreSQL."""
    for prefix in (
        "postgresql+psycopg://",
        "postgresql+asyncpg://",
        "postgresql://",
        "postgres://",
    ):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith("sqlite+aiosqlite://"):
        return "sqlite://" + url[len("sqlite+aiosqlite://") :]
    return url


def async_database_url(url: str) -> str:
    """The SQLAlchemy URL for the asyncio engine: psycopg 3 (async) or aiosqlite."""
    url = sync_database_url(url)
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


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


def make_async_engine(
    database_url: str, pool_size: int = 10, max_overflow: int = 10
) -> AsyncEngine:
    """An asyncio engine; the pool sizes apply to PostgreSQL only."""
    url = async_database_url(database_url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _serialise_sqlite_writes(engine.sync_engine)
        return engine
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True
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


async def check_migrated(
    engine: AsyncEngine, version_table: str, expected: str, command: str
) -> None:
    """Raise `NotMigratedError` naming `command` unless `version_table` is at `expected`."""
    async with engine.connect() as conn:
        has_table = await conn.run_sync(lambda sync: inspect(sync).has_table(version_table))
        current = None
        if has_table:
            current = (
                await conn.execute(text(f"SELECT version_num FROM {version_table}"))
            ).scalar()
    if current != expected:
        raise NotMigratedError(
            f"the database is not migrated (schema revision {current or 'none'}, code needs"
            f" {expected}); run `make migrate` or `{command}` first"
        )


def utcnow() -> datetime:
    """Now, timezone-aware, as every stored time is (`UTCDateTime`)."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """An instant: `timestamptz` on PostgreSQL, UTC text on SQLite; always aware UTC in Python."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an instant is required")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        return (
            value.replace(tzinfo=timezone.utc)
            if value.tzinfo is None
            else value.astimezone(timezone.utc)
        )
