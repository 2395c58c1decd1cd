"""The booking service, as the action server sees it: its catalog, times and bookings over the
shared `ServiceClient`, with typed failures.

Every call carries the internal token and a timeout (safe calls are retried once); a
connection failure, a timeout or a 5xx becomes `BookingServiceUnavailable`, so the caller can
apologise and keep the conversation's state instead of guessing what happened.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import structlog

from actions.settings import SETTINGS
from booka_common.service_client import ServiceClient, ServiceError

log = structlog.get_logger("actions.booking_api")


class BookingServiceUnavailable(Exception):
    """The booking service did not answer in time or failed; nothing can be assumed."""


class TenantNotFound(Exception):
    """No business with this slug."""


class SlotTaken(Exception):
    """The time went to someone else; `alternatives` are the nearest free slots."""

    def __init__(self, message: str, alternatives: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.alternatives = alternatives


class BookingRefused(Exception):
    """The booking service refused the request for a reason a customer can be told; `code`
    names the rule ("too_late_to_cancel"), so that it can be told in the customer's language."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Catalog:
    """What a tenant offers, fetched together and cached briefly."""

    tenant: dict[str, Any]
    services: list[dict[str, Any]]
    staff: list[dict[str, Any]]
    hours: list[dict[str, Any]]

    def service_by_name(self, name: str | None) -> dict[str, Any] | None:
        return next((s for s in self.services if s["name"] == name), None)

    def staff_by_name(self, name: str | None) -> dict[str, Any] | None:
        return next((s for s in self.staff if s["name"] == name), None)

    def staff_for(self, service: dict[str, Any]) -> list[dict[str, Any]]:
        ids = set(service.get("staff_ids") or ())
        return [person for person in self.staff if person["id"] in ids]


class BookingAPI:
    """Client of the booking service's /v1 API for one action-server process."""

    def __init__(self, base_url: str, token: str, timeout_s: float, catalog_ttl_s: float) -> None:
        self.client = ServiceClient(base_url, token, timeout_s=timeout_s)
        self.catalog_ttl_s = catalog_ttl_s
        self._catalogs: dict[str, tuple[float, Catalog]] = {}

    async def close(self) -> None:
        await self.client.close()

    async def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """One call to /v1/tenants`path`; (status, JSON body) for a success and for 404, 409
        and 422, which the caller reads; anything else is `BookingServiceUnavailable`."""
        try:
            answer = await self.client.call(method, f"/v1/tenants{path}", **kwargs)
        except ServiceError as error:
            if error.status in (404, 409, 422):
                return error.status, error.body
            raise BookingServiceUnavailable(str(error)) from error
        return answer.status, answer.body

    async def catalog(self, tenant: str) -> Catalog:
        """The tenant's details, services, staff and hours (cached for a few seconds)."""
        cached = self._catalogs.get(tenant)
        if cached and time.monotonic() - cached[0] < self.catalog_ttl_s:
            return cached[1]
        base = "/" + quote(tenant, safe="")
        status, info = await self.request("GET", base)
        if status == 404:
            raise TenantNotFound(tenant)
        _, services = await self.request("GET", base + "/services")
        _, staff = await self.request("GET", base + "/staff")
        _, hours = await self.request("GET", base + "/hours")
        catalog = Catalog(
            tenant=info,
            services=[s for s in _items(services) if s.get("active", True)],
            staff=[s for s in _items(staff) if s.get("active", True)],
            hours=_items(hours),
        )
        self._catalogs[tenant] = (time.monotonic(), catalog)
        return catalog

    async def availability(
        self, tenant: str, service_id: int, staff: str, start: str, end: str, party_size: int
    ) -> list[dict[str, Any]]:
        params = {
            "service": str(service_id),
            "staff": staff,
            "from": start,
            "to": end,
            "party_size": str(party_size),
        }
        status, body = await self.request(
            "GET", f"/{quote(tenant, safe='')}/availability", params=params
        )
        if status != 200:
            log.info("availability_refused", status=status, error=(body or {}).get("error"))
            return []
        return body["slots"]

    async def upcoming_bookings(
        self, tenant: str, phone: str, now_iso: str
    ) -> list[dict[str, Any]]:
        params = {"phone": phone, "status": "confirmed", "from": now_iso, "limit": "20"}
        status, body = await self.request(
            "GET", f"/{quote(tenant, safe='')}/bookings", params=params
        )
        if status != 200:
            return []
        return sorted(body["bookings"], key=lambda b: b["start"])

    async def customer_name(self, tenant: str, phone: str) -> str | None:
        """The name this phone number booked under before, if any."""
        status, body = await self.request(
            "GET", f"/{quote(tenant, safe='')}/bookings", params={"phone": phone, "limit": "1"}
        )
        if status != 200 or not body["bookings"]:
            return None
        return (body["bookings"][0].get("customer") or {}).get("name")

    async def create_booking(
        self, tenant: str, body: dict[str, Any], idempotency_key: str
    ) -> dict[str, Any]:
        status, answer = await self.request(
            "POST",
            f"/{quote(tenant, safe='')}/bookings",
            json=body,
            headers={"Idempotency-Key": idempotency_key},
        )
        return _outcome(status, answer)

    async def reschedule(
        self, tenant: str, booking_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        status, answer = await self.request(
            "POST",
            f"/{quote(tenant, safe='')}/bookings/{quote(booking_id, safe='')}/reschedule",
            json=body,
        )
        return _outcome(status, answer)

    async def booking(self, tenant: str, booking_id: str) -> dict[str, Any] | None:
        """One booking as it is now; None when there is no such booking."""
        status, body = await self.request(
            "GET", f"/{quote(tenant, safe='')}/bookings/{quote(booking_id, safe='')}"
        )
        return body if status == 200 else None

    async def confirm_attendance(self, tenant: str, booking_id: str) -> dict[str, Any]:
        """The customer says they are coming; `BookingRefused` when the booking is no longer
        on (cancelled since)."""
        status, answer = await self.request(
            "POST",
            f"/{quote(tenant, safe='')}/bookings/{quote(booking_id, safe='')}/attendance",
            json={"channel": "whatsapp"},
        )
        return _outcome(status, answer)

    async def join_waitlist(self, tenant: str, body: dict[str, Any]) -> dict[str, Any]:
        """Wait for a slot of a service on a day; the entry with its `position` in line."""
        status, answer = await self.request(
            "POST", f"/{quote(tenant, safe='')}/waitlist", json=body
        )
        return _outcome(status, answer)

    async def waitlist_entry(self, tenant: str, entry_id: str) -> dict[str, Any] | None:
        """One waiting-list entry with its current `offer` (None when there is no such one)."""
        status, body = await self.request(
            "GET", f"/{quote(tenant, safe='')}/waitlist/{quote(entry_id, safe='')}"
        )
        return body if status == 200 else None

    async def take_waitlist_offer(self, tenant: str, entry_id: str) -> dict[str, Any]:
        """The held slot, booked for the customer; `BookingRefused` when it is gone."""
        status, answer = await self.request(
            "POST", f"/{quote(tenant, safe='')}/waitlist/{quote(entry_id, safe='')}/accept"
        )
        return _outcome(status, answer)

    async def decline_waitlist_offer(self, tenant: str, entry_id: str) -> None:
        status, answer = await self.request(
            "POST", f"/{quote(tenant, safe='')}/waitlist/{quote(entry_id, safe='')}/decline"
        )
        _outcome(status, answer)

    async def set_messaging_consent(self, tenant: str, phone: str, consent: bool) -> None:
        """Whether this customer gets automated messages (STOP / START); raises
        `ServiceUnavailable` like every call when the booking service cannot say yes."""
        status, answer = await self.request(
            "PUT",
            f"/{quote(tenant, safe='')}/customers/consent",
            json={"phone": phone, "consent_reminders": consent},
        )
        _outcome(status, answer)

    async def cancel(self, tenant: str, booking_id: str, body: dict[str, Any]) -> dict[str, Any]:
        status, answer = await self.request(
            "POST",
            f"/{quote(tenant, safe='')}/bookings/{quote(booking_id, safe='')}/cancel",
            json=body,
        )
        return _outcome(status, answer)


def _items(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict):
        for key in ("items", "services", "staff", "hours"):
            if isinstance(body.get(key), list):
                return body[key]
    return body if isinstance(body, list) else []


def _outcome(status: int, body: Any) -> dict[str, Any]:
    if status in (200, 201):
        return body
    body = body or {}
    if status == 409 and body.get("error") == "slot_taken":
        raise SlotTaken(body.get("message", "taken"), body.get("alternatives") or [])
    raise BookingRefused(
        body.get("message") or body.get("error") or f"HTTP {status}", body.get("error")
    )


BOOKING_API = BookingAPI(
    SETTINGS.booking_service_url,
    SETTINGS.internal_token,
    SETTINGS.request_timeout_s,
    SETTINGS.catalog_ttl_s,
)
