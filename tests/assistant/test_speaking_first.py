"""Booka speaks first, end to end: the outreach worker (a real process, its job queue on
PostgreSQL) reads the booking service's outbox and writes to customers through the Rasa
channel and the Evolution sandbox — a change the business made is told at once, a reminder
arrives at its offset and its "1" and "2" work in the conversation, a no-show is followed
up and "yes" books again, a request for a person emails the staff (a real SMTP server on
loopback), and STOP silences everything until START.

The worker runs for this module only; the outbox is emptied first, so that the changes other
tests made earlier send nothing.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import psycopg
import pytest
from aiosmtpd.controller import Controller

from tests.assistant.admin_web import signed_in_owner
from tests.assistant.conftest import auckland_day, open_every_day
from tests.assistant.stack import ROOT, Stack, http
from tests.assistant.whatsapp import bookings_of, converse, new_number, wait_for
from tests.ports import free_port


class Inbox:
    """What a real SMTP server on loopback received: (recipients, the whole message)."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], str]] = []
        self.server_port = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook
        self.mails.append((envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    received = Inbox()
    server = Controller(received, hostname="127.0.0.1", port=free_port())
    server.start()
    received.server_port = server.port
    yield received
    server.stop()


@pytest.fixture(scope="module")
def outreach(stack: Stack, inbox: Inbox) -> Iterator[Stack]:
    while True:  # what earlier tests changed is not news for this module's customers
        status, page = stack.booking_api("GET", "/v1/outbox?limit=500")
        assert status == 200, page
        if not page["changes"]:
            break
        ids = [change["id"] for change in page["changes"]]
        assert stack.booking_api("POST", "/v1/outbox/ack", {"ids": ids})[0] == 200
    stack.extra_env.update(
        OUTREACH_RELAY_SECONDS="1",
        OUTREACH_RETRY_WAIT_SECONDS="1",
        OUTREACH_SENDING_STALE_SECONDS="10",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(inbox.server_port),
        ADMIN_PUBLIC_URL="https://admin.booka.test",
    )
    subprocess.run(
        [sys.executable, "-m", "outreach", "migrate"],
        cwd=ROOT,
        env=stack.env(),
        check=True,
        capture_output=True,
    )
    start_worker(stack, "outreach")
    yield stack
    process = stack.processes.pop("outreach")
    process.terminate()
    process.wait(timeout=20)
    log = stack.log("outreach")
    assert "Traceback" not in log and '"level": "error"' not in log, log[-4000:]


def start_worker(stack: Stack, name: str) -> None:
    """An outreach worker process (`python -m outreach serve`) on this stack's port `name`."""
    command = [sys.executable, "-m", "outreach", "serve", "--port", str(stack.ports[name])]
    stack.launch(name, command, "/api/ready", 60)


def outreach_api(
    stack: Stack, method: str, path: str, body: Any = None, worker: str = "outreach"
) -> tuple[int, Any]:
    return http(method, stack.url(worker) + path, body, token=stack.token)


def messages_of(
    stack: Stack, tenant: str, status: str = "", worker: str = "outreach"
) -> list[dict[str, Any]]:
    """The business's automated messages, as the admin reads them (from worker `worker`)."""
    query = f"?status={status}" if status else ""
    path = f"/internal/v1/tenants/{tenant}/messages{query}"
    answer, body = outreach_api(stack, "GET", path, worker=worker)
    assert answer == 200, body
    return body["messages"]


def night_and_day_salon(
    stack: Stack, people: int = 1, business: dict[str, Any] | None = None, **automations: Any
) -> str:
    """A salon open around the clock (a reminder a few minutes ahead works at any hour the
    tests run), connected to WhatsApp, reminding 5 minutes before, with no quiet hours (and
    the `business` details and `automations` settings given)."""
    slug = f"allday-{uuid.uuid4().hex[:8]}"
    body = {
        "slug": slug,
        "name": "All Day Cuts",
        "vertical": "beauty",
        "timezone": "Pacific/Auckland",
        "country": "NZ",
        "currency": "NZD",
        "locale": "en-NZ",
        "evolution_instance": slug,
        "min_notice_min": 0,
        "slot_step_min": 5,
        "reschedule_cutoff_min": 0,  # the reminder comes 5 minutes before: still movable
        "cancel_cutoff_min": 0,
        **(business or {}),
    }
    assert stack.booking_api("POST", "/v1/tenants", body)[0] == 201
    base = f"/v1/tenants/{slug}"
    names = ("Ana", *(f"Stylist {n}" for n in range(2, people + 1)))
    staff = open_every_day(stack, slug, names, "00:00", "23:59")
    service = {
        "name": "Haircut",
        "duration_min": 30,
        "price": "30",
        "staff_ids": list(staff.values()),
    }
    assert stack.booking_api("POST", f"{base}/services", service)[0] == 201
    settings = {
        "reminder_offsets": [5],
        "quiet_start": "00:00",
        "quiet_end": "00:00",
        "change_notices": False,
        **automations,
    }
    status, saved = outreach_api(stack, "PUT", f"/internal/v1/tenants/{slug}/settings", settings)
    assert status == 200, saved
    stack.connect_whatsapp(slug)
    return slug


def book(stack: Stack, tenant: str, number: str, start: datetime, channel: str) -> dict:
    body = {
        "service": "Haircut",
        "staff": "any",
        "start": start.isoformat(),
        "channel": channel,
        "customer": {"phone": f"+{number}", "name": "Pat"},
    }
    status, made = stack.booking_api(
        "POST", f"/v1/tenants/{tenant}/bookings", body, Idempotency_Key=uuid.uuid4().hex
    )
    assert status == 201, made
    return made


def bot_said(stack: Stack, tenant: str, number: str, fragment: str, timeout: float = 90) -> str:
    """Wait for the bot's message holding `fragment` in this chat; that message."""
    return wait_for(
        lambda: next(
            (
                m["text"]
                for m in stack.chat(tenant, number)
                if m["from_me"] and fragment in m["text"]
            ),
            None,
        ),
        f"a message with {fragment!r}",
        timeout,
    )


def test_changes_the_business_makes_in_the_web_app_are_told_to_the_customer_at_once(
    outreach: Stack, shop: str
) -> None:
    no_quiet_hours = {
        "reminder_offsets": [1440, 120],
        "quiet_start": "00:00",
        "quiet_end": "00:00",
        "change_notices": True,
    }
    path = f"/internal/v1/tenants/{shop}/settings"
    assert outreach_api(outreach, "PUT", path, no_quiet_hours)[0] == 200  # any hour in Auckland
    owner, number = signed_in_owner(outreach, shop), new_number()
    services = outreach.booking_api("GET", f"/v1/tenants/{shop}/services")[1]["services"]
    day = auckland_day(3).date().isoformat()
    status, _ = owner.post(  # booked by hand, as for a phone call
        f"/t/{shop}/calendar/bookings",
        {
            "csrf_token": owner.csrf(f"/t/{shop}/calendar"),
            "service": str(next(s["id"] for s in services if s["name"] == "Haircut")),
            "staff": "any",
            "date": day,
            "time": "10:00",
            "name": "Pat",
            "phone": f"+{number}",
        },
    )
    assert status == 200
    assert "Kiwi Cuts has booked your Haircut" in bot_said(outreach, shop, number, "has booked")
    [made] = bookings_of(outreach, shop, number)
    page = f"/t/{shop}/calendar/bookings/{made['id']}"
    move = {"csrf_token": owner.csrf(page), "date": day, "time": "12:00"}
    assert owner.post(f"{page}/move", move)[0] == 200
    assert "has been moved to" in bot_said(outreach, shop, number, "moved to")
    cancel = {"csrf_token": owner.csrf(page), "reason": "stylist ill"}
    assert owner.post(f"{page}/cancel", cancel)[0] == 200
    assert "cancelled by Kiwi Cuts" in bot_said(outreach, shop, number, "cancelled by")

    def sent_notices() -> list[dict[str, Any]] | None:
        sent = [m for m in messages_of(outreach, shop, "sent") if m["kind"] == "booking_changed"]
        return sent if len(sent) == 3 else None

    notices = wait_for(sent_notices, "three notices recorded as sent")
    assert sorted(m["detail"]["action"] for m in notices) == ["cancelled", "created", "moved"]
    assert all(m["in_session"] is False for m in notices), "the customer never wrote"
    assert [m["kind"] for m in messages_of(outreach, shop, "scheduled")] == [], (
        "the cancelled booking's reminders are dropped"
    )


def test_across_a_dst_change_offsets_are_real_time_and_quiet_hours_wall_clock(
    outreach: Stack,
) -> None:
    """Lisbon's clocks go forward at 01:00 UTC on 28 March 2027. A 09:00 booking that day
    (08:00 UTC) is reminded 24 real hours before — 08:00 winter time on the 27th, not 09:00 —
    and 2 hours before would be 07:00 summer time, inside the quiet hours until 08:00: it
    moves to 08:00 on the wall clock (07:00 UTC). The job queue holds each send for then."""
    lisbon = ZoneInfo("Europe/Lisbon")
    abroad = {"timezone": "Europe/Lisbon", "country": "PT", "currency": "EUR"}
    salon = night_and_day_salon(
        outreach,
        business={**abroad, "locale": "en-GB", "max_horizon_days": 730},
        reminder_offsets=[1440, 120],
        quiet_start="21:00",
        quiet_end="08:00",
    )
    start = datetime(2027, 3, 28, 9, 0, tzinfo=lisbon)
    book(outreach, salon, new_number(), start, "api")

    def planned() -> dict[int, datetime] | None:
        reminders = [
            m for m in messages_of(outreach, salon, "scheduled") if m["kind"] == "reminder"
        ]
        due = {m["detail"]["offset_min"]: datetime.fromisoformat(m["due_at"]) for m in reminders}
        return due if len(due) == 2 else None

    due = wait_for(planned, "both reminders planned")
    assert start - due[1440] == timedelta(hours=24)
    assert due[1440] == datetime(2027, 3, 27, 8, 0, tzinfo=lisbon), "08:00 winter time"
    assert due[120] == datetime(2027, 3, 28, 8, 0, tzinfo=lisbon), "08:00 summer time"
    assert due[120].astimezone(timezone.utc).hour == 7
    locks = [f"outreach.message.{m['id']}" for m in messages_of(outreach, salon, "scheduled")]

    def jobs() -> list[datetime] | None:
        with psycopg.connect(outreach.database_url) as conn:
            rows = conn.execute(
                "SELECT scheduled_at FROM procrastinate_jobs"
                " WHERE queueing_lock = ANY(%s) AND status = 'todo'",
                (locks,),
            ).fetchall()
        return sorted(row[0] for row in rows) if len(rows) == 2 else None

    assert wait_for(jobs, "a send job for each") == sorted(due.values())


def test_a_reminder_arrives_and_2_moves_the_booking(outreach: Stack) -> None:
    salon, number = night_and_day_salon(outreach), new_number()
    soon = datetime.now(timezone.utc) + timedelta(minutes=5, seconds=20)
    made = book(outreach, salon, number, soon.replace(microsecond=0), "api")
    reminder = bot_said(outreach, salon, number, "Reminder")
    assert "Haircut" in reminder and "1. I'll be there" in reminder and "2. Change it" in reminder
    assert "When" in converse(outreach, salon, number, "2")
    reply = converse(outreach, salon, number, "the day after tomorrow at 3pm")
    assert "Move your Haircut" in reply, reply
    assert "Done" in converse(outreach, salon, number, "yes")
    [booking] = bookings_of(outreach, salon, number)
    assert booking["id"] == made["id"]
    assert datetime.fromisoformat(booking["start"]) == auckland_day(2).replace(hour=15)
    new_start = auckland_day(2).replace(hour=15).isoformat()
    wait_for(
        lambda: [m for m in messages_of(outreach, salon) if m["detail"]["start"] == new_start],
        "the reminder of the new time planned",
    )
    assert sorted((m["kind"], m["status"]) for m in messages_of(outreach, salon)) == [
        ("reminder", "scheduled"),
        ("reminder", "sent"),
    ], "the old time's reminder sent once, one for the new time; no notice of the customer's move"


def test_free_text_under_a_reminder_acts_on_the_booking_reminded_of(outreach: Stack) -> None:
    salon, number = night_and_day_salon(outreach, people=2), new_number()
    later = book(outreach, salon, number, auckland_day(3).replace(hour=11), "api")
    soon = datetime.now(timezone.utc) + timedelta(minutes=5, seconds=20)
    reminded = book(outreach, salon, number, soon.replace(microsecond=0), "api")
    bot_said(outreach, salon, number, "Reminder")
    asked = converse(outreach, salon, number, "sorry, I can't make it")
    assert asked.startswith("Cancel your Haircut") and "Which booking" not in asked, asked
    assert "cancelled" in converse(outreach, salon, number, "yes")
    status = {b["id"]: b["status"] for b in bookings_of(outreach, salon, number)}
    assert status == {reminded["id"]: "cancelled", later["id"]: "confirmed"}, status


def test_a_change_inside_the_cut_off_is_refused_as_soon_as_the_booking_is_known(
    outreach: Stack,
) -> None:
    cut_off = {"reschedule_cutoff_min": 60, "cancel_cutoff_min": 60}
    salon, number = night_and_day_salon(outreach, business=cut_off), new_number()
    soon = datetime.now(timezone.utc) + timedelta(minutes=5, seconds=20)
    book(outreach, salon, number, soon.replace(microsecond=0), "api")
    bot_said(outreach, salon, number, "Reminder")
    moving = converse(outreach, salon, number, "2")
    assert "can be moved up to 1 hour before" in moving and "When" not in moving, moving
    cancelling = converse(outreach, salon, number, "then please cancel my appointment")
    assert "can be cancelled up to 1 hour before" in cancelling, cancelling
    [booking] = bookings_of(outreach, salon, number)
    assert booking["status"] == "confirmed"


def test_1_under_a_reminder_confirms_attendance(outreach: Stack) -> None:
    salon, number = night_and_day_salon(outreach), new_number()
    soon = datetime.now(timezone.utc) + timedelta(minutes=5, seconds=20)
    made = book(outreach, salon, number, soon.replace(microsecond=0), "api")
    bot_said(outreach, salon, number, "Reminder")
    assert "Thanks for confirming" in converse(outreach, salon, number, "1")
    status, booking = outreach.booking_api("GET", f"/v1/tenants/{salon}/bookings/{made['id']}")
    assert status == 200 and booking["customer_confirmed_at"], booking


def test_only_the_platform_may_write_first(stack: Stack, shop: str) -> None:
    address = stack.url("rasa") + "/webhooks/evolution/outreach"
    body = {
        "key": "k-1",
        "tenant": shop,
        "instance": shop,
        "phone": "+64210000001",
        "intent": "EXTERNAL_reminder",
        "entities": {"booking_ref": "x"},
    }
    assert http("POST", address, body)[0] == 401, "nobody else can message a business's customers"
    assert http("POST", address, body, token="not-the-token")[0] == 401
    status, refused = http("POST", address, {**body, "intent": "greet"}, token=stack.token)
    assert status == 422 and "intent" in refused["message"]
    status, refused = http("POST", address, {**body, "instance": "nope"}, token=stack.token)
    assert status == 404


def outbox_read(stack: Stack) -> None:
    """Wait until the worker has read every change the booking service holds."""
    wait_for(
        lambda: stack.booking_api("GET", "/v1/outbox?limit=1")[1]["changes"] == [],
        "the outbox read by the worker",
    )


def test_a_no_show_is_followed_up_and_yes_books_the_same_service(outreach: Stack) -> None:
    salon, number = night_and_day_salon(outreach, no_show_delay_min=0), new_number()
    now = datetime.now(timezone.utc)
    start = (now + timedelta(minutes=5 - now.minute % 5)).replace(second=0, microsecond=0)
    made = book(outreach, salon, number, start, "api")  # the next 5-minute step
    path = f"/v1/tenants/{salon}/bookings/{made['id']}/status"
    wait_for(  # a booking is marked a no-show once it has started
        lambda: outreach.booking_api("POST", path, {"status": "no_show"})[0] == 200,
        "the booking started and marked a no-show",
        timeout=360,
    )
    offer = bot_said(outreach, salon, number, "We missed you")
    assert "Haircut" in offer and "1. Book a new time" in offer, offer
    reply = converse(outreach, salon, number, "yes please")
    assert "What day and time" in reply, reply  # the service is known: straight to the time
    [follow_up] = wait_for(
        lambda: [m for m in messages_of(outreach, salon, "sent") if m["kind"] == "follow_up"],
        "the follow-up recorded as sent",
    )
    assert follow_up["detail"] == {"follow_up": "no_show"}


def test_asking_for_a_person_alerts_the_staff_by_email_and_whatsapp_with_a_link(
    outreach: Stack, inbox: Inbox
) -> None:
    salon = night_and_day_salon(outreach, alert_emails=["frontdesk@allday.test"])
    business_phone, number = new_number(), new_number()
    path = f"/v1/tenants/{salon}"
    assert outreach.booking_api("PATCH", path, {"phone": f"+{business_phone}"})[0] == 200
    converse(outreach, salon, number, "hi")
    converse(outreach, salon, number, "can I talk to a real person please")

    def alert() -> str | None:
        mails = [body for to, body in inbox.mails if to == ["frontdesk@allday.test"]]
        return next((body for body in mails if f"/t/{salon}/conversations/c" in body), None)

    mail = wait_for(alert, "the staff's email", timeout=60)
    assert "waiting for a person" in mail and "https://admin.booka.test/t/" in mail
    assert number not in mail and number[-7:] not in mail, "no phone number in a mailbox"
    on_phone = bot_said(outreach, salon, business_phone, "waiting for a person")
    assert f"/t/{salon}/conversations/c" in on_phone and number not in on_phone
    expected = {
        "handoff_alert": "sent",
        "handoff_alert_whatsapp": "sent",
        "handoff_ended": "scheduled",
    }
    wait_for(  # the chat has the alert a moment before the worker records it as sent
        lambda: {m["kind"]: m["status"] for m in messages_of(outreach, salon)} == expected,
        f"the outbox to show {expected}",
    )


def test_stop_silences_every_automated_message_until_start(outreach: Stack) -> None:
    salon = night_and_day_salon(outreach, change_notices=True)
    number = new_number()
    assert "won't get any more automatic messages" in converse(outreach, salon, number, "STOP")
    soon = datetime.now(timezone.utc) + timedelta(minutes=5, seconds=20)
    book(outreach, salon, number, soon.replace(microsecond=0), "admin")  # notice + reminder
    outbox_read(outreach)
    assert messages_of(outreach, salon) == [], "nothing planned for a customer who said STOP"
    assert "send you reminders and notices again" in converse(outreach, salon, number, "start")
    later = auckland_day(2).replace(hour=11)
    book(outreach, salon, number, later, "admin")
    assert "has booked your Haircut" in bot_said(outreach, salon, number, "has booked")


def test_a_handoff_nobody_took_ends_with_the_assistant_saying_it_is_back(
    outreach: Stack,
) -> None:
    salon, number = night_and_day_salon(outreach), new_number()
    converse(outreach, salon, number, "hi")
    converse(outreach, salon, number, "I want to speak to a human")
    conversation = outreach.conversation(f"{salon}:{number}")
    events = f"/conversations/{quote(conversation, safe=':')}/tracker/events"
    now = datetime.now(timezone.utc)
    ran_out = {"event": "slot", "name": "handoff_until", "value": now.timestamp() - 1}
    assert outreach.rasa_api("POST", events, ran_out)[0] == 200  # its time has run out
    handoff = {  # as the action server tells it, with a handoff that ends at once
        "conversation": conversation,
        "instance": salon,
        "phone": f"+{number}",
        "asked_at": now.isoformat(),
        "until": (now + timedelta(seconds=1)).isoformat(),
        "timezone": "Pacific/Auckland",
    }
    path = f"/internal/v1/tenants/{salon}/handoffs"
    assert outreach_api(outreach, "POST", path, handoff)[0] == 201
    assert "I'm back" in bot_said(outreach, salon, number, "I'm back", timeout=60)
    assert "All Day Cuts" in converse(outreach, salon, number, "hello again")
    status, refused = outreach_api(outreach, "POST", path, {**handoff, "conversation": "x:c1"})
    assert status == 422 and "conversation" in refused["fields"], refused


def reminders_in_chat(stack: Stack, salon: str, number: str) -> int:
    return sum(1 for m in stack.chat(salon, number) if m["from_me"] and "Reminder" in m["text"])


def test_two_workers_one_killed_mid_batch_send_each_reminder_exactly_once(
    outreach: Stack,
) -> None:
    salon = night_and_day_salon(outreach, people=12)
    start_worker(outreach, "outreach_b")
    soon = (datetime.now(timezone.utc) + timedelta(minutes=5, seconds=25)).replace(microsecond=0)
    numbers = [new_number() for _ in range(12)]
    for number in numbers:
        book(outreach, salon, number, soon, "api")
    wait_for(lambda: messages_of(outreach, salon, "sent"), "the batch under way", timeout=90)
    outreach.processes.pop("outreach").kill()  # no goodbye: its claims and jobs are left behind
    try:
        wait_for(
            lambda: len(messages_of(outreach, salon, "sent", "outreach_b")) == len(numbers),
            "every reminder sent by the surviving worker",
            timeout=180,
        )
    finally:
        start_worker(outreach, "outreach")  # the module's worker, back for the other tests
    assert [reminders_in_chat(outreach, salon, n) for n in numbers] == [1] * len(numbers)
    survivor = outreach.processes.pop("outreach_b")
    survivor.terminate()
    survivor.wait(timeout=20)
    assert "Traceback" not in outreach.log("outreach_b")


def test_whatsapp_down_retries_then_fails_visibly_and_the_retry_button_sends_it_once(
    outreach: Stack,
) -> None:
    salon, number = night_and_day_salon(outreach), new_number()
    soon = datetime.now(timezone.utc) + timedelta(minutes=5, seconds=20)
    book(outreach, salon, number, soon.replace(microsecond=0), "api")
    key = outreach.extra_env["EVOLUTION_SANDBOX_API_KEY"]
    assert outreach.sandbox("DELETE", f"/instance/delete/{salon}", key=key)[0] == 200

    def failed() -> list[dict[str, Any]]:
        return messages_of(outreach, salon, "failed")

    [message] = wait_for(failed, "the reminder failed after its retries", timeout=120)
    assert message["attempts"] > 1 and "WhatsApp" in message["last_error"], message
    outreach.connect_whatsapp(salon)  # WhatsApp is back
    path = f"/internal/v1/tenants/{salon}/messages/{message['id']}/retry"
    assert outreach_api(outreach, "POST", path)[0] == 200
    wait_for(lambda: messages_of(outreach, salon, "sent"), "the retried reminder sent")
    assert reminders_in_chat(outreach, salon, number) == 1


def test_a_cancellation_brings_a_waitlist_offer_that_the_waiting_customer_books(
    outreach: Stack,
) -> None:
    salon = night_and_day_salon(outreach)
    first, waiting = new_number(), new_number()
    wanted = auckland_day(2).replace(hour=15)
    taken = book(outreach, salon, first, wanted, "api")
    reply = converse(outreach, salon, waiting, "can I get a haircut the day after tomorrow at 3pm")
    assert "isn't available" in reply, reply
    joined = converse(outreach, salon, waiting, "please let me know if something frees up")
    assert "frees up" in joined and "number 1" in joined, joined
    status, _ = outreach.booking_api(
        "POST", f"/v1/tenants/{salon}/bookings/{taken['id']}/cancel", {"channel": "admin"}
    )
    assert status == 200
    offer = bot_said(outreach, salon, waiting, "Good news")
    assert "Haircut" in offer and "keeping it for you until" in offer, offer
    assert "You're booked" in converse(outreach, salon, waiting, "yes please")
    [booking] = bookings_of(outreach, salon, waiting)
    assert datetime.fromisoformat(booking["start"]) == wanted and booking["status"] == "confirmed"
    kinds = {m["kind"]: m["status"] for m in messages_of(outreach, salon)}
    assert kinds["waitlist_offer"] == "sent" and kinds["waitlist_lapse"] == "scheduled", kinds
