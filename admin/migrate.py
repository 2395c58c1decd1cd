"""Schema migrations (Alembic) for the admin app, callable from code and the CLI."""

from __future__ import annotations

from pathlib import Path

from services_common import migrations

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
ALEMBIC_VERSION_TABLE = "admin_alembic_version"


def upgrade_to_head(database_url: str) -> None:
    """Bring the admin tables at `database_url` to the newest revision (idempotent)."""
    migrations.upgrade(MIGRATIONS_DIR, database_url)


def head_revision() -> str:
    return migrations.head(MIGRATIONS_DIR)
