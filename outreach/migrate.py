"""The outreach worker's schema migrations (Alembic), callable from code and the CLI."""

from __future__ import annotations

from pathlib import Path

from services_common.migrations import Chain

CHAIN = Chain(
    Path(__file__).resolve().parent / "migrations",
    "outreach_alembic_version",
    "python -m outreach migrate",
)
