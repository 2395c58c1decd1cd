"""No personal data in clear anywhere Booka keeps it: after a whole WhatsApp booking, a dump
of the booking and admin database (pg_dump), the tracker store's file, Redis and every
process's log holds neither the customer's name, nor their phone number, nor the words
they wrote; the owner's transcript page still shows them."""

from __future__ import annotations

import subprocess

import redis

from tests.assistant.stack import Stack
from tests.assistant.whatsapp import bookings_of, converse, new_number

NAME = "Marisol Quintela"


def everything_stored(stack: Stack) -> dict[str, str]:
    """Where Booka keeps data, as text a person with the disk (or a backup) could read."""
    database = stack.database_url.replace("+psycopg", "").replace("+asyncpg", "")
    dump = subprocess.run(
        ["pg_dump", "--data-only", database],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    store = redis.Redis.from_url(stack.env()["REDIS_URL"])
    cached = " ".join(f"{key!r}={store.dump(key)!r}" for key in store.scan_iter(count=1000))
    tracker = b"".join(path.read_bytes() for path in stack.workdir.glob("tracker.db*")).decode(
        "latin-1"
    )
    logs = {path.name: path.read_text(errors="replace") for path in stack.workdir.glob("*.log")}
    return {"postgres dump": dump, "redis": cached, "tracker store": tracker, **logs}


def test_a_full_dump_after_a_booking_holds_no_personal_data_in_clear(
    stack: Stack, shop: str
) -> None:
    number = new_number()
    said = [
        "hello, can i get a haircut with ana tomorrow at 5 please",
        f"it's {NAME}",
        "yes that's right",
    ]
    replies = [converse(stack, shop, number, text) for text in said]
    assert "booked" in replies[-1].lower(), replies
    (booking,) = bookings_of(stack, shop, number)
    assert booking["customer"]["name"] == NAME
    stored = everything_stored(stack)
    assert shop in stored["postgres dump"] and shop in stored["tracker store"], (
        "the dump reads where the data is"
    )
    assert {"rasa.log", "actions.log", "admin.log", "booking.log"} <= set(stored)
    found = {
        (place, secret)
        for place, text in stored.items()
        for secret in (NAME, "Quintela", number, *said)
        if secret in text
    }
    assert found == set(), f"in clear: {sorted(found)}"
