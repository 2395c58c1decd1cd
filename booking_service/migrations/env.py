"""Alembic environment: runs the booking service's migrations on the configured database."""

from __future__ import annotations

from booking_service.database import ALEMBIC_VERSION_TABLE
from booking_service.tables import metadata
from services_common.migrations import run_online

run_online(metadata, ALEMBIC_VERSION_TABLE)
