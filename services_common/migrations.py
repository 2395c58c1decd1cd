"""Running a service's Alembic migrations from code and the CLI. Each service keeps its own
migrations folder and version table, so the services can share one database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory


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
