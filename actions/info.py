"""Answers about the business: greeting, services, prices, opening hours, address."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any
from urllib.parse import quote_plus

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.base import ResilientAction
from actions.booking_api import BOOKING_API, Catalog
from actions.conversation import latest_entity_values, latest_text, speaking, tenant_of
from actions.engine_api import say
from actions.formatting import name_in, service_price
from actions.matching import match_catalog, mentioned_in
from actions.phrases import phrase
from booka_common.templating import babel_locale


class CatalogAction(ResilientAction, ABC):
    """An action that answers from the tenant's catalog, in the tenant's template."""

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
        template, variables = self.answer(catalog, speaking(tracker, catalog.tenant), tracker)
        await say(
            dispatcher,
            tracker,
            template,
            business_name=catalog.tenant["name"],
            **variables,
        )
        return []

    @abstractmethod
    def answer(self, catalog: Catalog, locale: str, tracker: Tracker) -> tuple[str, dict[str, Any]]:
        """The template key of the reply and its variables, from the catalog (values written
        for `locale`, the conversation's)."""


def service_line(service: dict[str, Any], locale: str) -> str:
    price = service_price(service, locale)
    name = name_in(service, locale)
    return f"• {name} — {service['duration_min']} min" + (f", {price}" if price else "")


def service_lines(services: list[dict[str, Any]], locale: str) -> str:
    return "\n".join(service_line(s, locale) for s in services)


class ActionGreet(CatalogAction):
    """The greeting, in the tenant's own words and tone; a greeting that names one of the
    business's services ("hello! I need a manicure") is a request, and opens the booking."""

    def name(self) -> str:
        return "action_greet"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> list[EventType]:
        catalog = await BOOKING_API.catalog(tenant_of(tracker))
        if not tracker.active_loop_name and mentioned_in(latest_text(tracker), catalog.services):
            return [FollowupAction("booking_form")]
        return await super().act(dispatcher, tracker, domain)

    def answer(self, catalog: Catalog, locale: str, tracker: Tracker) -> tuple[str, dict[str, Any]]:
        return "greeting", {}


class ActionListServices(CatalogAction):
    def name(self) -> str:
        return "action_list_services"

    def answer(self, catalog: Catalog, locale: str, tracker: Tracker) -> tuple[str, dict[str, Any]]:
        return "services_list", {"services": service_lines(catalog.services, locale)}


class ActionTellPrice(CatalogAction):
    def name(self) -> str:
        return "action_tell_price"

    def answer(self, catalog: Catalog, locale: str, tracker: Tracker) -> tuple[str, dict[str, Any]]:
        mentions = latest_entity_values(tracker, "service") or [latest_text(tracker)]
        found: list[dict[str, Any]] = []
        for mention in mentions:
            found += [s for s in match_catalog(mention, catalog.services).items if s not in found]
        if not found and tracker.get_slot("service"):
            found = [s for s in catalog.services if s["name"] == tracker.get_slot("service")]
        if not found:
            return "prices_list", {"services": service_lines(catalog.services, locale)}
        if len(found) == 1:
            service = found[0]
            price = service.get("price") if service_price(service, locale) else None
            return "service_price", {
                "service": name_in(service, locale),
                "price": price,
                "duration": service["duration_min"],
            }
        return "price_matches", {"services": service_lines(found, locale)}


def opening_lines(hours: list[dict[str, Any]], locale: str) -> list[str]:
    """One line per weekday from the business's own hours (staff-less rows), breaks left out,
    weekdays named in the conversation's language ("Monday", "segunda-feira", "lunes")."""
    names = babel_locale(locale).days["format"]["wide"]
    lines = []
    for day in range(7):
        name = names[day][:1].upper() + names[day][1:]
        spans = sorted(
            (row["start"], row["end"])
            for row in hours
            if row.get("staff_id") is None
            and row["weekday"] == day
            and row.get("kind", "open") == "open"
        )
        times = ", ".join(f"{a}–{b}" for a, b in spans) if spans else phrase(locale, "closed")
        lines.append(f"{name}: {times}")
    return lines


class ActionTellOpeningHours(CatalogAction):
    def name(self) -> str:
        return "action_tell_opening_hours"

    def answer(self, catalog: Catalog, locale: str, tracker: Tracker) -> tuple[str, dict[str, Any]]:
        zone = catalog.tenant["timezone"].split("/")[-1].replace("_", " ")
        return "opening_hours", {
            "zone": zone,
            "hours": "\n".join(opening_lines(catalog.hours, locale)),
        }


class ActionTellLocation(CatalogAction):
    def name(self) -> str:
        return "action_tell_location"

    def answer(self, catalog: Catalog, locale: str, tracker: Tracker) -> tuple[str, dict[str, Any]]:
        address = catalog.tenant.get("address") or ""
        return "location", {
            "address": address,
            "phone": catalog.tenant.get("phone") or "",
            "map_link": f"https://www.google.com/maps/search/?api=1&query={quote_plus(address)}"
            if address
            else "",
        }
