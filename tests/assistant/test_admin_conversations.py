"""The admin web app against the running product: an owner sees a WhatsApp conversation
that asked for a person in the handoff queue with its transcript, replies as a person
(the customer gets it on WhatsApp, the bot stays quiet), hands it back to the bot (the bot
answers again), takes it over by hand, and sends a bot text to their own WhatsApp as a test."""

from __future__ import annotations

import re

from tests.assistant.admin_web import signed_in_owner
from tests.assistant.stack import Stack
from tests.assistant.whatsapp import converse, new_number


def bot_texts(stack: Stack, shop: str, number: str) -> list[str]:
    return [m["text"] for m in stack.chat(shop, number) if m["from_me"]]


def test_an_owner_answers_a_customer_who_asked_for_a_person_then_hands_the_chat_back(
    stack: Stack, shop: str
) -> None:
    number = new_number()
    converse(stack, shop, number, "hi")
    converse(stack, shop, number, "can i talk to a real person please")
    owner = signed_in_owner(stack, shop)
    status, listing = owner.get(f"/t/{shop}/conversations")
    queue = listing.split('aria-label="handoff queue"')[1].split("</table>")[0]
    assert status == 200 and f"+{number}" in queue

    page = f"/t/{shop}/conversations/{stack.conversation(f'{shop}:{number}').split(':', 1)[1]}"
    status, transcript = owner.get(page)
    assert (
        status == 200
        and "can i talk to a real person please" in transcript
        and "with a person" in transcript
    )
    assert "request_human" in transcript, "designers see what the bot understood"
    csrf = owner.csrf(page)
    status, _ = owner.post(
        page + "/reply", {"csrf_token": csrf, "text": "Hi, Rita here. How can I help?"}
    )
    assert status == 200
    assert bot_texts(stack, shop, number)[-1] == "Hi, Rita here. How can I help?", (
        "the customer got the person's reply on WhatsApp"
    )
    turns = stack.user_turns(shop, number)
    stack.whatsapp(shop, number, "i need to move my colour to friday")
    assert stack.turn_done(shop, number, turns) == [], "the bot stays quiet while a person has it"
    _, transcript = owner.get(page)
    assert 'class="msg person"' in transcript and "i need to move my colour to friday" in transcript

    status, _ = owner.post(page + "/release", {"csrf_token": csrf})
    assert status == 200
    assert "open" in converse(stack, shop, number, "what are your opening hours").lower(), (
        "the bot answers again"
    )
    _, listing = owner.get(f"/t/{shop}/conversations")
    assert (
        f"+{number}" not in listing.split('aria-label="handoff queue"')[1].split("</table>")[0]
        if 'aria-label="handoff queue"' in listing
        else True
    )

    owner.post(page + "/takeover", {"csrf_token": csrf})
    turns = stack.user_turns(shop, number)
    stack.whatsapp(shop, number, "hello?")
    assert stack.turn_done(shop, number, turns) == [], "taken over by hand: the bot is quiet"
    owner.post(page + "/release", {"csrf_token": csrf})
    _, log = owner.get(f"/t/{shop}/audit")
    assert (
        "replied as person" in log
        and "conversation released" in log
        and "conversation taken over" in log
        and number not in log
    )


def test_an_owner_sends_a_bot_text_to_their_own_whatsapp_as_a_test(stack: Stack, shop: str) -> None:
    number = new_number()
    owner = signed_in_owner(stack, shop)
    team = f"/t/{shop}/team"
    status, page = owner.get(team)
    user_id = re.search(r'name="user_id" value="(\d+)">\s*<input name="whatsapp"', page).group(1)
    status, _ = owner.post(
        team + "/whatsapp",
        {
            "csrf_token": owner.csrf(team),
            "user_id": user_id,
            "whatsapp": f"+{number[:2]} {number[2:]}",
        },
    )
    assert status == 200
    editor = f"/t/{shop}/texts/greeting"
    csrf = owner.csrf(editor)
    status, answer = owner.post(
        editor + "/send-test",
        {
            "csrf_token": csrf,
            "member": user_id,
            "locale": "en",
            "body": "Test from {{ business_name }}: hello {{ customer_name }}!",
        },
    )
    assert status == 200 and f"Sent to +…{number[-4:]}" in answer
    [message] = [m for m in stack.chat(shop, number) if m["from_me"]]
    assert message["text"].startswith("Test from ") and "{{" not in message["text"]
    stranger = new_number()
    status, answer = owner.post(
        editor + "/send-test", {"csrf_token": csrf, "phone": f"+{stranger}", "body": "Hi"}
    )
    assert status == 422 and "WhatsApp numbers" in answer and stack.chat(shop, stranger) == []
    status, answer = owner.post(
        editor + "/send-test", {"csrf_token": csrf, "member": user_id, "body": "Hi {{ nobody }}"}
    )
    assert status == 422 and "nobody" in answer
