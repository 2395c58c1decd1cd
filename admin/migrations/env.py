"""Alembic environment: runs the web app's migrations on the configured database."""

from __future__ import annotations

from admin.migrate import CHAIN
from admin.tables import metadata
from services_common.migrations import run_online

run_online(metadata, CHAIN.version_table)
