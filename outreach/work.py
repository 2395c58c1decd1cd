"""What the outreach jobs do: read the booking service's outbox and plan messages, and send
one message through the conversation's channel.

Sending goes through the Rasa server's evolution channel (`POST {channel}/outreach`), not
straight to Evolution: the message then belongs to the customer's conversation (its reply,
"1" or "can we do later?", is understood there) and the channel sends it the way it sends
every reply. Each message carries its key; the channel remembers the keys it has delivered,
so a send repeated after a worker died mid-call is not delivered twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from booka_common.crypto import lookup_hash
from booka_common.service_client import ServiceClient, ServiceError
from outreach import alerts, planning, store
from outreach.settings import OutreachSettings
from services_common.mail import send_email
from services_common.sql import make_async_engine, utcnow

log = structlog.get_logger("outreach")

INTENTS = {
    "reminder": "EXTERNAL_reminder",
    "booking_changed": "EXTERNAL_booking_changed",
    "follow_up": "EXTERNAL_follow_up",
    "handoff_ended": "EXTERNAL_handoff_ended",
    "waitlist_offer": "EXTERNAL_waitlist_offer",
}
FOLLOW_UP_STATUS = {"no_show": "no_show", "rebook": "completed"}  # what the visit must still be


@dataclass(frozen=True)
class Outcome:
    """How one send ended: `status` sent, skipped or postponed, or a failure to retry
    (`retry`) or to give up on."""

    status: str
    reason: str = ""
    retry: bool = False
    due_at: datetime | None = None
    in_session: bool | None = None


def entities_of(row: dict[str, Any]) -> dict[str, Any]:
    """What the conversation's rules and actions get with the external event: the booking,
    and for a notice what happened to it (the domain's `booking_ref` and `change`)."""
    found = {"booking_ref": row["booking_id"]} if row["booking_id"] else {}
    if row["kind"] == "booking_changed":
        found["change"] = row["detail"]["action"]
    if row["kind"] == "follow_up":
        found["follow_up"] = row["detail"]["follow_up"]
    if row["kind"] == "waitlist_offer":
        found["booking_ref"] = row["detail"]["entry"]  # the waiting-list entry
    return found


class Outreach:
    """The jobs' shared resources (database, HTTP clients), opened once per worker process."""

    def __init__(self, settings: OutreachSettings, engine: AsyncEngine | None = None):
        self.settings = settings
        self.engine = engine or make_async_engine(settings.database_url)
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self.session = aiohttp.ClientSession()
        self.bookings = ServiceClient(
            self.settings.booking_service_url,
            self.settings.internal_token,
            timeout_s=10,
            session=self.session,
        )
        self.channel = ServiceClient(
            self.settings.channel_url,
            self.settings.internal_token,
            timeout_s=60,
            attempts=1,
            session=self.session,
            service="conversation channel",
        )

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()
        await self.engine.dispose()

    # --- the outbox -------------------------------------------------------------------------

    async def relay_once(self) -> list[tuple[int, datetime]]:
        """Plan messages for the changes waiting in the booking service's outbox, then
        acknowledge them; the ids of the messages planned (each needs a send job). A change
        read twice (a worker stopped before acknowledging) plans nothing new."""
        try:
            answer = await self.bookings.call("GET", "/v1/outbox", params={"limit": "200"})
        except ServiceError as error:  # read again next round; nothing is lost meanwhile
            log.warning("outbox_unreachable", reason=str(error)[:200])
            return []
        changes = answer.body.get("changes") or []
        planned: list[tuple[int, datetime]] = []
        for change in changes:
            planned += await self.plan_change(change)
        if changes:
            await self.bookings.call(
                "POST", "/v1/outbox/ack", json={"ids": [c["id"] for c in changes]}
            )
            log.info("outbox_relayed", changes=len(changes), planned=len(planned))
        return planned

    async def plan_change(self, change: dict[str, Any]) -> list[tuple[int, datetime]]:
        booking, tenant = change.get("booking"), change.get("tenant")
        if not booking or not tenant or not (booking.get("customer") or {}).get("phone"):
            return []
        now = utcnow()
        async with self.engine.begin() as conn:
            chosen = await store.settings_of(conn, tenant["slug"])
        offered = await self.offer_to_waitlist(change, chosen, now)
        async with self.engine.begin() as conn:
            wanted = planning.reminders(booking, chosen, now)
            await store.cancel_reminders(conn, booking["id"], [item.key for item in wanted])
            others = (
                planning.change_notice(change, chosen, now),
                planning.follow_up(change, chosen, now),
            )
            planned = await store.plan(
                conn,
                self.settings.keyring,
                self.with_phone_key(store.Recipient.of_booking(booking, tenant)),
                wanted + [item for item in others if item is not None],
            )
            if offered is not None:
                waiting = store.Recipient(
                    tenant["slug"], tenant["evolution_instance"], offered["customer"]["phone"]
                )
                planned += await store.plan(
                    conn,
                    self.settings.keyring,
                    self.with_phone_key(waiting),
                    planning.waitlist_messages(
                        offered,
                        planning.after_quiet_hours(now, ZoneInfo(tenant["timezone"]), chosen),
                        tenant["timezone"],
                    ),
                )
            return planned

    async def offer_to_waitlist(
        self, change: dict[str, Any], chosen: planning.AutomationSettings, now: datetime
    ) -> dict[str, Any] | None:
        """A time this change left free, held for the first customer waiting for it (the
        booking service chooses whom and holds it); that entry, or None. The hold lasts the
        business's offer time from when the offer can go (after the quiet hours)."""
        freed = planning.freed_slot(change, now)
        if freed is None or not chosen.waitlist_hold_min:
            return None
        tenant = change["tenant"]
        sendable = planning.after_quiet_hours(now, ZoneInfo(tenant["timezone"]), chosen)
        hold_until = sendable + timedelta(minutes=chosen.waitlist_hold_min)
        if hold_until >= freed["start"]:
            return None  # too close to take
        answer = await self.bookings.call(
            "POST",
            f"/v1/tenants/{tenant['slug']}/waitlist/offers",
            json={
                "start": freed["start"].isoformat(),
                "staff_id": freed["staff_id"],
                "hold_until": hold_until.isoformat(),
                "change_id": change["id"],  # read again after a crash: the same entry
            },
        )
        return answer.body.get("entry")

    async def plan_handoff(
        self, recipient: store.Recipient, handoff: planning.Handoff
    ) -> list[tuple[int, datetime]]:
        """A customer asked for a person: the staff's alert now, "the assistant is back" when
        the handoff's time runs out (said only if nobody took the conversation)."""
        async with self.engine.begin() as conn:
            return await store.plan(
                conn,
                self.settings.keyring,
                self.with_phone_key(recipient),
                planning.handoff_messages(handoff),
            )

    def with_phone_key(self, recipient: store.Recipient) -> store.Recipient:
        digits = "".join(ch for ch in recipient.phone if ch.isdigit())
        key = lookup_hash(self.settings.lookup_key, f"outreach:{recipient.tenant}:{digits}")
        return replace(recipient, phone_key=key)

    # --- sending ----------------------------------------------------------------------------

    async def send(self, message_id: int, last_attempt: bool) -> Outcome | None:
        """Send one message if it is still wanted; None when another worker has it or it is
        done already."""
        now = utcnow()
        async with self.engine.begin() as conn:
            row = await store.claim(
                conn, message_id, now, timedelta(seconds=self.settings.sending_stale_s)
            )
        if row is None:
            return None
        try:
            outcome = await self.deliver(row, now)
        except Exception as error:  # noqa: BLE001 - recorded on the message and retried
            log.warning("outreach_send_crashed", message=message_id, error=type(error).__name__)
            outcome = Outcome("failed", f"unexpected error: {type(error).__name__}", retry=True)
        await self.record(row, outcome, last_attempt)
        return outcome

    async def deliver(self, row: dict[str, Any], now: datetime) -> Outcome:
        chosen = await self.settings_for(row["tenant"])
        if row["kind"] == "handoff_alert":
            return await self.alert_staff(row, chosen)
        if row["kind"] == "handoff_alert_whatsapp":
            return await self.alert_business_phone(row)
        if row["kind"] == "waitlist_lapse":
            return await self.lapse_offer(row)
        phone = self.settings.keyring.decrypt(row["phone_enc"], store.phone_context(row["tenant"]))
        tz = ZoneInfo(row["detail"].get("timezone") or "UTC")
        if row["booking_id"]:
            booking = await self.current_booking(row)
            if booking is None:
                return Outcome("skipped", "the booking no longer exists")
            stale = self.no_longer_wanted(row, booking, now) or await self.booked_again(
                row, phone, now
            )
            if stale:
                return Outcome("skipped", stale)
            tz = ZoneInfo(booking["timezone"])
        if planning.in_quiet_hours(now, tz, chosen):
            return Outcome("postponed", due_at=planning.after_quiet_hours(now, tz, chosen))
        capped = await self.over_daily_cap(row, chosen, now, tz)
        if capped:
            return Outcome("postponed", capped, due_at=planning.next_morning(now, tz, chosen))
        return await self.speak(row, phone)

    async def over_daily_cap(
        self, row: dict[str, Any], chosen: planning.AutomationSettings, now: datetime, tz: ZoneInfo
    ) -> str:
        """Why a reminder or follow-up waits for tomorrow: the customer, or the business, has
        had the day's share (the business's day, its wall clock)."""
        if row["kind"] not in planning.CAPPED_KINDS:
            return ""
        midnight = datetime.combine(now.astimezone(tz).date(), datetime.min.time(), tz)
        async with self.engine.connect() as conn:
            customer, business = await store.sent_since(
                conn, row["tenant"], row["phone_key"], midnight
            )
        if customer >= chosen.daily_cap_customer:
            return "the customer's daily limit is reached; it goes tomorrow"
        if business >= chosen.daily_cap_business:
            return "the business's daily limit is reached; it goes tomorrow"
        return ""

    async def speak(
        self, row: dict[str, Any], phone: str, content: dict[str, Any] | None = None
    ) -> Outcome:
        """The message, written by the assistant in the customer's conversation (or, given
        `content` {"text": ...}, that text as it is)."""
        what = content or {"intent": INTENTS[row["kind"]], "entities": entities_of(row)}
        try:
            answer = await self.channel.call(
                "POST",
                "/outreach",
                json={
                    "key": row["key"],
                    "tenant": row["tenant"],
                    "instance": row["instance"],
                    "phone": phone,
                    **what,
                },
            )
        except ServiceError as error:
            # 409: the same message is being sent by another attempt right now
            again = error.unavailable or error.status == 409
            return Outcome("failed", str(error)[:300], retry=again)
        if answer.body.get("duplicate"):
            return Outcome("sent", "delivered by an earlier attempt")
        if not answer.body.get("delivered"):
            # the assistant said nothing: a person has the conversation, or the booking is off
            return Outcome("skipped", "the assistant had nothing to send in this conversation")
        return Outcome("sent", in_session=answer.body.get("in_session"))

    async def current_booking(self, row: dict[str, Any]) -> dict[str, Any] | None:
        try:
            answer = await self.bookings.call(
                "GET", f"/v1/tenants/{row['tenant']}/bookings/{row['booking_id']}"
            )
        except ServiceError as error:
            if error.status == 404:
                return None
            raise
        return answer.body

    @staticmethod
    def no_longer_wanted(row: dict[str, Any], booking: dict[str, Any], now: datetime) -> str:
        """Why the message should not go any more ("" when it should)."""
        if (booking.get("customer") or {}).get("consent_reminders") is False:
            return "the customer asked for no automated messages"
        if row["kind"] == "follow_up":
            wanted = FOLLOW_UP_STATUS[row["detail"]["follow_up"]]
            return "" if booking["status"] == wanted else f"the booking is {booking['status']}"
        if row["kind"] != "reminder":
            return ""
        if booking["status"] != "confirmed":
            return f"the booking is {booking['status']}"
        start = datetime.fromisoformat(booking["start"])
        if start != datetime.fromisoformat(row["detail"]["start"]):
            return "the booking was moved"
        if start <= now:
            return "the booking has started"
        return ""

    async def booked_again(self, row: dict[str, Any], phone: str, now: datetime) -> str:
        """For a rebooking nudge: why not, when the customer has booked again meanwhile."""
        if row["kind"] != "follow_up" or row["detail"]["follow_up"] != "rebook":
            return ""
        answer = await self.bookings.call(
            "GET",
            f"/v1/tenants/{row['tenant']}/bookings",
            params={"phone": phone, "status": "confirmed", "from": now.isoformat(), "limit": "1"},
        )
        return "the customer has booked again" if answer.body.get("bookings") else ""

    async def alert_staff(
        self, row: dict[str, Any], chosen: planning.AutomationSettings
    ) -> Outcome:
        """A customer asked for a person: one email to the business's alert addresses, with a
        link to the conversation (no phone number or message text in the mail)."""
        if not chosen.alert_emails:
            return Outcome("skipped", "no alert email is set (Automations page)")
        if not self.settings.smtp.host:
            return Outcome("skipped", "no mail server is configured (SMTP_HOST)")
        subject, body = alerts.handoff_email(row, self.settings.admin_public_url)
        to = ", ".join(chosen.alert_emails)
        if not await send_email(self.settings.smtp, to, subject, body, "handoff_alert"):
            return Outcome("failed", "the mail server did not take the alert", retry=True)
        return Outcome("sent")

    async def lapse_offer(self, row: dict[str, Any]) -> Outcome:
        """The hold ran out: if the offer was not taken, the booking service lets the time go
        (its outbox then brings it back here for the next one waiting)."""
        entry = row["detail"]["entry"]
        answer = await self.bookings.call(
            "POST", f"/v1/tenants/{row['tenant']}/waitlist/{entry}/lapse"
        )
        if answer.body.get("status") == "lapsed":
            return Outcome("sent", "not taken in time: passed on")
        return Outcome("skipped", f"the offer was {answer.body.get('status')}")

    async def alert_business_phone(self, row: dict[str, Any]) -> Outcome:
        """The same alert as a WhatsApp message to the business's own number, when it has one
        (the business's phone in the booking service)."""
        business = (await self.bookings.call("GET", f"/v1/tenants/{row['tenant']}")).body
        if not "".join(ch for ch in str(business.get("phone") or "") if ch.isdigit()):
            return Outcome("skipped", "the business has no phone number set")
        subject, body = alerts.handoff_email(row, self.settings.admin_public_url)
        text = f"🔔 {subject}\n\n{body}"
        return await self.speak(row, str(business["phone"]), {"text": text})

    async def settings_for(self, tenant: str) -> planning.AutomationSettings:
        async with self.engine.connect() as conn:
            return await store.settings_of(conn, tenant)

    async def record(self, row: dict[str, Any], outcome: Outcome, last_attempt: bool) -> None:
        async with self.engine.begin() as conn:
            if outcome.status == "postponed" and outcome.due_at is not None:
                await store.postpone(conn, row["id"], outcome.due_at, outcome.reason or None)
            elif outcome.status == "failed" and outcome.retry and not last_attempt:
                await store.finish(conn, row["id"], "retrying", error=outcome.reason)
            else:
                await store.finish(
                    conn,
                    row["id"],
                    outcome.status,
                    error=outcome.reason or None,
                    in_session=outcome.in_session,
                )
        log.info(
            "outreach_message",
            message=row["id"],
            tenant=row["tenant"],
            kind=row["kind"],
            status=outcome.status,
            attempt=row["attempts"],
        )
