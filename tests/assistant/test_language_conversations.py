"""Customers who write in Portuguese (Portugal, Brazil) and Spanish, over WhatsApp (the
Evolution sandbox): they book, move and cancel in their language and are answered in it,
"sim" / "não" / "sí" / "no" work as yes and no, and a customer who switches language
mid-conversation is answered in the new one. Checked against the booking service."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from tests.assistant.conftest import auckland_day, open_every_day
from tests.assistant.stack import Stack
from tests.assistant.whatsapp import bookings_of, converse, new_number


def business(stack: Stack, locale: str, country: str) -> str:
    """A salon open 09:00-19:00 every day (in Auckland, as the other tests' salon, so dates
    never depend on the weekday), speaking `locale`, with a haircut named in each language."""
    slug = f"lang-{uuid.uuid4().hex[:8]}"
    body = {
        "slug": slug,
        "name": "Salão Sol",
        "vertical": "beauty",
        "timezone": "Pacific/Auckland",
        "country": country,
        "currency": "EUR",
        "locale": locale,
        "evolution_instance": slug,
        "min_notice_min": 30,
        "slot_step_min": 30,
    }
    assert stack.booking_api("POST", "/v1/tenants", body)[0] == 201
    base = f"/v1/tenants/{slug}"
    staff = open_every_day(stack, slug, ("Rita",))
    service = {
        "name": "Haircut",
        "aliases": ["cut", "corte", "corte de cabelo", "corte de pelo"],
        "names": {"pt": "Corte de cabelo", "es": "Corte de pelo"},
        "duration_min": 60,
        "price": "30",
        "staff_ids": [staff["Rita"]],
    }
    assert stack.booking_api("POST", f"{base}/services", service)[0] == 201
    stack.connect_whatsapp(slug)
    return slug


def start_of(booking: dict) -> datetime:
    return datetime.fromisoformat(booking["start"])


LANGUAGES = {
    # locale of the business, its country, the customer's phone prefix, and what they say
    "pt-PT": dict(
        country="PT",
        prefix="3519",
        book="Olá, queria marcar um corte de cabelo para amanhã às 15h",
        name="Joana Sousa",
        confirm_cue="Marco",
        booked_cue="marcado",
        yes="sim",
        move="preciso de mudar a minha marcação para depois de amanhã às 11h",
        move_cue="Mudo",
        moved_cue="passou para",
        cancel="afinal não vou poder ir, quero desmarcar",
        cancel_cue="Desmarco",
        cancelled_cue="desmarcada",
    ),
    "pt-BR": dict(
        country="BR",
        prefix="5511",
        book="oi, quero agendar um corte amanhã às 15h",
        name="meu nome é Camila Rocha",
        confirm_cue="Posso agendar",
        booked_cue="Agendado",
        yes="sim",
        move="da pra remarcar meu horario pra depois de amanhã às 11h?",
        move_cue="Remarco",
        moved_cue="agora é",
        cancel="preciso cancelar meu horário",
        cancel_cue="Cancelo",
        cancelled_cue="cancelado",
    ),
    "es": dict(
        country="ES",
        prefix="346",
        book="hola, quiero pedir cita para un corte mañana a las 3 de la tarde",
        name="me llamo Lucía Romero",
        confirm_cue="Te reservo",
        booked_cue="Listo",
        yes="sí",
        move="¿me puedes cambiar la cita a pasado mañana a las 11?",
        move_cue="Cambio",
        moved_cue="ahora es",
        cancel="tengo que cancelar mi cita",
        cancel_cue="Cancelo",
        cancelled_cue="cancelada",
    ),
}


@pytest.mark.parametrize("locale", sorted(LANGUAGES))
def test_book_move_and_cancel_in_the_customers_language(stack, locale):
    said = LANGUAGES[locale]
    shop = business(stack, locale, said["country"])
    number = said["prefix"] + new_number()[-8:]
    reply = converse(stack, shop, number, said["book"])
    assert "nome" in reply.lower() or "nombre" in reply.lower(), reply
    reply = converse(stack, shop, number, said["name"])
    assert said["confirm_cue"] in reply and "15:00" in reply and "Corte" in reply, reply
    assert bookings_of(stack, shop, number) == []
    reply = converse(stack, shop, number, said["yes"])
    (booking,) = bookings_of(stack, shop, number)
    assert start_of(booking) == auckland_day(1).replace(hour=15)
    assert said["booked_cue"] in reply and "30,00" in reply, reply

    reply = converse(stack, shop, number, said["move"])
    assert said["move_cue"] in reply and "11:00" in reply, reply
    reply = converse(stack, shop, number, said["yes"])
    (moved,) = bookings_of(stack, shop, number)
    assert moved["id"] == booking["id"] and start_of(moved) == auckland_day(2).replace(hour=11)
    assert said["moved_cue"] in reply, reply

    reply = converse(stack, shop, number, said["cancel"])
    assert said["cancel_cue"] in reply, reply
    reply = converse(stack, shop, number, said["yes"])
    assert [b["status"] for b in bookings_of(stack, shop, number)] == ["cancelled"]
    assert said["cancelled_cue"] in reply, reply


@pytest.mark.parametrize(
    ("locale", "book", "no", "change_cue"),
    [
        ("pt-PT", "queria marcar um corte amanhã às 10h em nome de Rui Costa", "não", "mudar"),
        ("es", "quiero un corte mañana a las 10, a nombre de Diego Torres", "no", "cambiar"),
    ],
)
def test_no_at_the_confirmation_asks_what_to_change(stack, locale, book, no, change_cue):
    said = LANGUAGES[locale]
    shop = business(stack, locale, said["country"])
    number = said["prefix"] + new_number()[-8:]
    reply = converse(stack, shop, number, book)
    assert said["confirm_cue"] in reply, reply
    reply = converse(stack, shop, number, no)
    assert change_cue in reply and bookings_of(stack, shop, number) == [], reply


def test_a_customer_who_switches_language_is_answered_in_the_new_one(stack, shop):
    """The Auckland salon speaks English; the customer starts in English, then writes
    Portuguese."""
    number = new_number()
    reply = converse(stack, shop, number, "hi, can I book a haircut with Ana tomorrow at 5pm?")
    assert "name" in reply.lower()
    reply = converse(stack, shop, number, "Tom Baker")
    assert "Shall I book" in reply, reply
    reply = converse(stack, shop, number, "desculpe, prefiro às 16h, pode ser?")
    assert "agendar" in reply.lower() or "marco" in reply.lower(), reply
    assert "Shall I" not in reply and "4:00 pm" not in reply, reply
    reply = converse(stack, shop, number, "sim")
    (booking,) = bookings_of(stack, shop, number)
    assert start_of(booking) == auckland_day(1).replace(hour=16)
    assert "Agendado" in reply or "marcado" in reply, reply
    reply = converse(stack, shop, number, "thanks a lot, that's all for today")
    assert "You're welcome" in reply or "Bye" in reply, reply


def test_a_first_short_message_is_read_in_the_businesss_language(stack):
    shop = business(stack, "pt-PT", "PT")
    number = "3519" + new_number()[-8:]
    reply = converse(stack, shop, number, "olá")
    assert "Posso marcar" in reply and "Salão Sol" in reply, reply
