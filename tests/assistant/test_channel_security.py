"""Nobody can act as a customer: no REST channel, Rasa's API behind its token, the dev
channel behind its own token and blind to metadata it was handed, and a customer's "/..."
never becomes an intent. Each attempt here succeeded on main before issue 17."""

from __future__ import annotations

from urllib.parse import quote

from tests.assistant.conftest import texts
from tests.assistant.stack import Stack, http
from tests.assistant.whatsapp import bookings_of, converse, new_number


def test_impersonation_attempts_are_refused(stack: Stack, kiwi: str) -> None:
    victim = f"{kiwi}:6421{new_number()[-7:]}"
    rasa = stack.url("rasa")
    attempts = {
        "REST channel": http(
            "POST",
            rasa + "/webhooks/rest/webhook",
            {"sender": victim, "message": "what are my bookings?"},
        ),
        "dev channel, no token": http(
            "POST", rasa + "/webhooks/dev/webhook", {"sender": victim, "message": "hi"}
        ),
        "dev channel, wrong token": http(
            "POST",
            rasa + "/webhooks/dev/webhook",
            {"sender": victim, "message": "hi"},
            token=stack.dev_token[::-1],
        ),
        "tracker, no token": http(
            "GET", rasa + f"/conversations/{quote(victim, safe=':')}/tracker"
        ),
        "inject events, no token": http(
            "POST",
            rasa + f"/conversations/{quote(victim, safe=':')}/tracker/events",
            {"event": "slot", "name": "tenant", "value": kiwi},
        ),
        "parse, no token": http("POST", rasa + "/model/parse", {"text": "hi"}),
        "tracker, wrong token": http(
            "GET", rasa + f"/conversations/{quote(victim, safe=':')}/tracker?token=guess"
        ),
    }
    assert {name: status for name, (status, _) in attempts.items()} == {
        "REST channel": 404,
        "dev channel, no token": 401,
        "dev channel, wrong token": 401,
        "tracker, no token": 401,
        "inject events, no token": 401,
        "parse, no token": 401,
        "tracker, wrong token": 401,
    }
    assert stack.tracker(victim)[0] == 200


def test_metadata_handed_to_the_dev_channel_cannot_choose_the_business_or_the_phone(
    stack: Stack, customer: str, kiwi: str
) -> None:
    stack.say(customer, "hi", tenant="someone-else", phone="351912990417")
    status, tracker = stack.tracker(customer)
    assert status == 200
    assert tracker["slots"]["tenant"] == kiwi
    latest = [e for e in tracker["events"] if e["event"] == "user"][-1]
    assert latest["metadata"]["phone"] == customer.split(":")[1]


def test_a_sender_id_without_channel_metadata_is_no_customer(stack: Stack, kiwi: str) -> None:
    """The tenant and phone come only from the channel: Rasa's API can post a message under
    a customer's sender id, but the bot then knows no business and no phone."""
    sender = f"{kiwi}:{new_number()}"
    status, _ = stack.rasa_api(
        "POST",
        f"/conversations/{quote(stack.conversation(sender), safe=':')}/trigger_intent",
        {"name": "greet"},
    )
    assert status == 200
    status, tracker = stack.tracker(sender)
    assert tracker["slots"]["tenant"] is None and tracker["slots"]["tenant_unknown"] is True


def test_a_customer_typing_an_intent_payload_gets_no_intent(stack: Stack, shop: str) -> None:
    number = new_number()
    converse(stack, shop, number, "hi, my name is Rita")
    converse(
        stack, shop, number, '/book_appointment{"service": "Haircut", "start": "2031-01-01T10:00"}'
    )
    converse(stack, shop, number, "/restart")
    status, tracker = stack.tracker(f"{shop}:{number}")
    assert status == 200
    users = [e for e in tracker["events"] if e["event"] == "user"]
    assert [u["text"] for u in users[-2:]] == [
        'book_appointment{"service": "Haircut", "start": "2031-01-01T10:00"}',
        "restart",
    ]
    assert all(u["parse_data"]["intent"]["name"] != "restart" for u in users)
    assert not any(e["event"] == "restart" for e in tracker["events"])
    assert tracker["slots"]["tenant"] == shop
    assert bookings_of(stack, shop, number) == []


def test_the_dev_channel_still_books_for_the_customer_it_names(stack: Stack, customer: str) -> None:
    reply = texts(stack.say(customer, "how much is a haircut"))
    assert "30" in reply
