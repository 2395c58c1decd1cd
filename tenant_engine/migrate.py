"""The tenant engine's schema migrations (Alembic), callable from code and the CLI."""

from __future__ import annotations

from pathlib import Path

from services_common.migrations import Chain

CHAIN = Chain(
    Path(__file__).resolve().parent / "migrations",
    "admin_alembic_version",  # the engine's history began in the admin app
    "python -m tenant_engine migrate",
)
