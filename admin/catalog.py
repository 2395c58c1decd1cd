"""The booking service as the admin web app changes and reads it (catalog, onboarding,
dashboard): one client, its rules apply, and its refusals reach the person as they are."""

from __future__ import annotations

from typing import Any

import aiohttp

from admin.booking_words import describe
from booka_common.service_client import ServiceClient, ServiceError
from services_common.tenants import BookingServiceUnavailable


class BookingRefused(Exception):
    """The booking service refused a change; the message says why, field by field, and a
    taken time comes with the nearest free ones (`alternatives`). `str()` says it in the
    language of the request when the service named the rule (`reason`)."""

    def __init__(
        self,
        message: str,
        status: int = 422,
        alternatives: list[dict[str, Any]] | None = None,
        reason: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.status, self.alternatives = status, alternatives or []
        self.message, self.reason = message, reason or {}

    def __str__(self) -> str:
        return describe(self.reason, self.message)


class BookingClient:
    """The pages' calls, over the shared `ServiceClient` (the app's connection pool)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str):
        self.client = ServiceClient(base_url, token, session=session)

    async def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        """The answer's JSON; `BookingRefused` for a 4xx, with the service's own words, and
        `BookingServiceUnavailable` when it cannot answer."""
        return (await self.exchange(method, path, body, params))[0]

    async def exchange(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[Any, Any]:
        """The answer's JSON and headers (`call` when the headers do not matter)."""
        try:
            answer = await self.client.call(method, path, json=body, params=params, headers=headers)
        except ServiceError as error:
            if error.unavailable:
                raise BookingServiceUnavailable(str(error)) from None
            reason = error.body.get("reason") if isinstance(error.body, dict) else None
            raise BookingRefused(
                str(error), error.status or 422, error.alternatives, reason
            ) from None
        return answer.body, answer.headers

    async def book(
        self, tenant: str, body: dict[str, Any], idempotency_key: str
    ) -> tuple[dict[str, Any], bool]:
        """A new booking, and whether it was made by an earlier request with the same key."""
        made, headers = await self.exchange(
            "POST",
            f"/v1/tenants/{tenant}/bookings",
            body,
            headers={"Idempotency-Key": idempotency_key},
        )
        return made, headers.get("Idempotent-Replayed") == "true"

    async def services(self, tenant: str) -> list[dict[str, Any]]:
        return (await self.call("GET", f"/v1/tenants/{tenant}/services"))["services"]

    async def staff(self, tenant: str) -> list[dict[str, Any]]:
        return (await self.call("GET", f"/v1/tenants/{tenant}/staff"))["staff"]

    async def resources(self, tenant: str) -> list[dict[str, Any]]:
        return (await self.call("GET", f"/v1/tenants/{tenant}/resources"))["resources"]

    async def add_person(self, tenant: str, name: str) -> dict[str, Any]:
        """A new staff member who works the business's opening hours (their own can be set
        later)."""
        base = f"/v1/tenants/{tenant}"
        person = await self.call("POST", f"{base}/staff", {"name": name, "aliases": []})
        business = [
            row
            for row in (await self.call("GET", f"{base}/hours"))["hours"]
            if row.get("staff_id") is None
        ]
        week = [
            {
                "weekday": row["weekday"],
                "start": row["start"],
                "end": row["end"],
                "kind": row.get("kind", "open"),
                "staff_id": person["id"],
            }
            for row in business
        ]
        await self.call("PUT", f"{base}/hours", {"staff_id": person["id"], "hours": week})
        return person


# The languages a service's name can be given in, besides its own (form field suffix, label).
NAME_LANGUAGES = (
    ("pt", "Portuguese"),
    ("pt-BR", "Portuguese (Brazil)"),
    ("es", "Spanish"),
)


def service_body(form: Any, staff_ids: list[int]) -> dict[str, Any]:
    """A service from the web form (numbers and lists as the booking service takes them)."""
    body: dict[str, Any] = {
        "name": str(form.get("name") or "").strip(),
        "aliases": [a.strip() for a in str(form.get("aliases") or "").split(",") if a.strip()],
        "names": {
            code: str(form.get(f"name_{code}")).strip()
            for code, _label in NAME_LANGUAGES
            if str(form.get(f"name_{code}") or "").strip()
        },
        "price": str(form.get("price") or "0").strip() or "0",
        "staff_ids": staff_ids,
    }
    for field in ("duration_min", "buffer_after_min"):
        raw = str(form.get(field) or "").strip()
        if raw:
            body[field] = (
                int(raw) if raw.isdigit() else raw
            )  # a non-number is refused by the booking service, with its message
    return body
