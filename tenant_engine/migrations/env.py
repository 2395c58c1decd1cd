"""Alembic environment: runs the tenant engine's migrations on the configured database."""

from __future__ import annotations

from services_common.migrations import run_online
from tenant_engine.migrate import CHAIN
from tenant_engine.tables import metadata

run_online(metadata, CHAIN.version_table)
