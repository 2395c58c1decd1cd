"""Alembic environment: runs the outreach worker's migrations on the configured database."""

from __future__ import annotations

from outreach.migrate import CHAIN
from outreach.tables import metadata
from services_common.migrations import run_online

run_online(metadata, CHAIN.version_table)
