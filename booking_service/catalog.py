"""A tenant's catalog (services, staff, skills, hours, resources) read once and cached.

The catalog changes rarely but is needed by every availability and booking request. Each
catalog write bumps `tenants.catalog_version` in its own transaction; every request reads
the tenant row anyway, so a cached catalog is reused only while its version is current.
That keeps several service processes consistent without any cross-process messaging.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from booking_service import repository as repo
from booking_service import tables as t
from booking_service.engine import WeeklySchedule
from booking_service.repository import Tenant

Row = dict[str, Any]


@dataclass(frozen=True)
class Catalog:
    services: dict[int, Row]
    staff: dict[int, Row]
    skills: frozenset[tuple[int, int]]
    """(service id, staff id) pairs: who can perform what."""
    schedules: dict[int | None, WeeklySchedule]
    """Weekly hours by staff id; None is the business's opening hours."""
    resources: list[Row]

    @staticmethod
    def _find(rows: dict[int, Row], ref: int | str) -> Row | None:
        """By id, or by case-insensitive name, alias or name in another language among active
        rows."""
        if isinstance(ref, int) or ref.strip().isdigit():
            return rows.get(int(ref))
        wanted = ref.strip().casefold()
        for row in rows.values():
            known = (row["name"], *(row["aliases"] or ()), *(row.get("names") or {}).values())
            if row["active"] and wanted in (name.casefold() for name in known):
                return row
        return None

    def service(self, ref: int | str) -> Row | None:
        return self._find(self.services, ref)

    def person(self, ref: int | str) -> Row | None:
        return self._find(self.staff, ref)

    def qualified_staff(self, service_id: int) -> list[Row]:
        """Active staff who can perform the service, by name."""
        people = [
            row
            for row in self.staff.values()
            if row["active"] and (service_id, row["id"]) in self.skills
        ]
        return sorted(people, key=lambda row: (row["name"], row["id"]))

    def resources_of_kind(self, kind: str) -> list[Row]:
        return [row for row in self.resources if row["active"] and row["kind"] == kind]


async def load_catalog(conn: AsyncConnection, tenant_id: int) -> Catalog:
    services = {row["id"]: row for row in await repo.list_rows(conn, t.services, tenant_id)}
    return Catalog(
        services=services,
        staff={row["id"]: row for row in await repo.list_rows(conn, t.staff, tenant_id)},
        skills=frozenset(await repo.skill_links(conn, service_ids=list(services)))
        if services
        else frozenset(),
        schedules=repo.weekly_schedules(await repo.list_rows(conn, t.hours, tenant_id)),
        resources=await repo.list_rows(conn, t.resources, tenant_id),
    )


class CatalogCache:
    """Catalogs by tenant id, each kept with the version it was read at."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[int, Catalog]] = {}

    async def get(self, conn: AsyncConnection, tenant: Tenant) -> Catalog:
        entry = self._entries.get(tenant.id)
        if entry is not None and entry[0] == tenant.catalog_version:
            return entry[1]
        catalog = await load_catalog(conn, tenant.id)
        self._entries[tenant.id] = (tenant.catalog_version, catalog)
        return catalog
