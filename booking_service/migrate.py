"""Schema migrations (Alembic) for the booking service, callable from code and the CLI."""

from __future__ import annotations

from pathlib import Path

from services_common import migrations

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def upgrade_to_head(database_url: str) -> None:
    """Bring the schema at `database_url` to the newest revision (idempotent)."""
    migrations.upgrade(MIGRATIONS_DIR, database_url)
