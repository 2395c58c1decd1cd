"""Running a service's Alembic migrations from code and the CLI. Each service keeps its own
migrations folder and version table, so the services can share one database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services_common.sql import check_migrated, make_sync_engine


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    """An Alembic configuration for the migrations in `migrations_dir` against `database_url`."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.attributes["database_url"] = database_url
    return config


def upgrade(migrations_dir: Path, database_url: str) -> None:
    """Bring the schema at `database_url` to the newest revision (idempotent)."""
    command.upgrade(alembic_config(migrations_dir, database_url), "head")


def head(migrations_dir: Path) -> str:
    """The newest revision shipped in `migrations_dir`."""
    return (
        ScriptDirectory.from_config(alembic_config(migrations_dir, "sqlite://")).get_current_head()
        or ""
    )


@dataclass(frozen=True)
class Chain:
    """One component's migrations: their folder, version table and the command that applies
    them (named when a process finds its tables older than its code)."""

    directory: Path
    version_table: str
    command: str

    def upgrade(self, database_url: str) -> None:
        """Bring the component's tables at `database_url` to the newest revision (idempotent)."""
        upgrade(self.directory, database_url)

    def head(self) -> str:
        return head(self.directory)

    async def check(self, engine: AsyncEngine) -> None:
        """`NotMigratedError` unless the tables are at this code's newest revision."""
        await check_migrated(engine, self.version_table, self.head(), self.command)

    async def readiness(self, engine: AsyncEngine) -> str:
        """ "ok" when the database answers and is migrated, else what is wrong (never raises)."""
        try:
            await self.check(engine)
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - readiness reports, it does not raise
            return str(exc)[:200]
        return "ok"


def run_online(metadata: MetaData, version_table: str) -> None:
    """The body of a component's Alembic `env.py`: its migrations on the configured database,
    in one transaction per run (batch mode on SQLite, which cannot alter tables in place)."""
    from alembic import context

    engine = make_sync_engine(context.config.attributes["database_url"])
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=version_table,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
