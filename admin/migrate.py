"""The web app's schema migrations (Alembic), callable from code and the CLI."""

from __future__ import annotations

from pathlib import Path

from services_common.migrations import Chain

CHAIN = Chain(
    Path(__file__).resolve().parent / "migrations",
    "admin_web_alembic_version",
    "python -m admin migrate",
)
