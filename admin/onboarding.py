"""Onboarding a business (superadmins' wizard): the tenant in the booking service with its
vertical's starter hours, services and tables (`starter_catalogs.yml`), its first staff
member, and an owner who can sign in. Tone and texts need nothing: a new tenant speaks in
its vertical's default tone with the bot's default texts until the owner changes them.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from admin.auth import create_user
from admin.catalog import BookingClient, BookingRefused

STARTERS = yaml.safe_load(
    Path(__file__).with_name("starter_catalogs.yml").read_text(encoding="utf-8")
)


class OnboardingProblem(Exception):
    """The booking service refused a step; `done` says what was already created."""

    def __init__(self, message: str, done: list[str]):
        super().__init__(message)
        self.message = message
        self.done = done


@dataclass
class NewBusiness:
    name: str
    slug: str
    vertical: str
    timezone: str
    locale: str
    country: str
    currency: str
    instance: str
    owner_email: str
    first_staff: str = ""
    address: str = ""
    phone: str = ""
    done: list[str] = field(default_factory=list)


def slug_for(name: str) -> str:
    return (
        re.sub(r"-+", "-", re.sub(r"[^a-z0-9]+", "-", name.lower())).strip("-")[:40] or "business"
    )


class Steps:
    """The onboarding's calls to the booking service, each named, so that a refusal says
    which step failed and what was already created."""

    def __init__(self, client: BookingClient, business: NewBusiness):
        self.client, self.business = client, business

    async def __call__(self, method: str, path: str, body: Any, step: str) -> dict[str, Any]:
        try:
            result = await self.client.call(method, path, body)
        except BookingRefused as refused:
            raise OnboardingProblem(f"{step}: {refused}", self.business.done) from None
        self.business.done.append(step)
        return result or {}


def week_rows(blocks: list[dict[str, Any]], staff_id: int | None = None) -> list[dict[str, Any]]:
    return [
        {
            "weekday": day,
            "start": block["start"],
            "end": block["end"],
            **({"staff_id": staff_id} if staff_id else {}),
        }
        for block in blocks
        for day in block["days"]
    ]


async def onboard(engine: Any, client: BookingClient, business: NewBusiness) -> str:
    """Create everything; the owner's first password (shown once to the superadmin)."""
    starter = STARTERS[business.vertical]
    call = Steps(client, business)
    base = f"/v1/tenants/{business.slug}"
    await call(
        "POST",
        "/v1/tenants",
        {
            "slug": business.slug,
            "name": business.name,
            "vertical": business.vertical,
            "timezone": business.timezone,
            "locale": business.locale,
            "country": business.country,
            "currency": business.currency,
            "evolution_instance": business.instance,
            "address": business.address,
            "phone": business.phone,
        },
        "the business",
    )
    await call(
        "PUT",
        f"{base}/hours",
        {"staff_id": None, "hours": week_rows(starter["hours"])},
        "opening hours",
    )
    staff_ids: list[int] = []
    if business.first_staff and any(s.get("requires_staff", True) for s in starter["services"]):
        person = await call(
            "POST",
            f"{base}/staff",
            {"name": business.first_staff, "aliases": []},
            f"staff member {business.first_staff}",
        )
        await call(
            "PUT",
            f"{base}/hours",
            {"staff_id": person["id"], "hours": week_rows(starter["hours"], person["id"])},
            f"{business.first_staff}'s hours",
        )
        staff_ids.append(person["id"])
    for number, capacity in enumerate(starter.get("tables", []), start=1):
        await call(
            "POST",
            f"{base}/resources",
            {"name": f"Table {number}", "kind": "table", "capacity": capacity},
            f"table {number}",
        )
    for service in starter["services"]:
        body = {
            **service,
            **({"staff_ids": staff_ids} if service.get("requires_staff", True) else {}),
        }
        await call("POST", f"{base}/services", body, f"service {service['name']}")
    password = secrets.token_urlsafe(9)
    await create_user(engine, business.owner_email, password, "owner", business.slug)
    business.done.append(f"owner {business.owner_email}")
    return password
