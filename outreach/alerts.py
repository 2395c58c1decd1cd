"""The email that tells a business's staff a customer asked for a person, in the business's
language. It carries a link to the conversation in the owners' web app and how long the
customer has waited, never the customer's number or words: mailboxes are not encrypted."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

TEXTS = {
    "en": (
        "A customer is waiting for a person on WhatsApp",
        "A customer asked to talk to a person at {time}.\n"
        "Open the conversation to take it over and reply:\n{link}\n\n"
        "If nobody replies by {until}, the assistant answers again and tells the customer so.",
    ),
    "pt": (
        "Um cliente está à espera de uma pessoa no WhatsApp",
        "Um cliente pediu para falar com uma pessoa às {time}.\n"
        "Abra a conversa para a assumir e responder:\n{link}\n\n"
        "Se ninguém responder até às {until}, o assistente volta a responder e avisa o cliente.",
    ),
    "es": (
        "Un cliente espera a una persona en WhatsApp",
        "Un cliente pidió hablar con una persona a las {time}.\n"
        "Abre la conversación para atenderla y responder:\n{link}\n\n"
        "Si nadie responde antes de las {until}, el asistente vuelve a contestar y se lo dice.",
    ),
}


def handoff_email(row: dict[str, Any], admin_url: str) -> tuple[str, str]:
    """Subject and body of the alert for the planned message `row` (kind handoff_alert; the
    WhatsApp alert is the two joined)."""
    detail = row["detail"]
    subject, body = TEXTS.get(str(detail.get("locale") or "en")[:2], TEXTS["en"])
    tz = ZoneInfo(detail.get("timezone") or "UTC")
    key = str(detail["conversation"]).split(":", 1)[-1]
    link = f"{admin_url}/t/{quote(row['tenant'])}/conversations/{quote(key)}"
    return subject, body.format(
        time=datetime.fromisoformat(detail["asked_at"]).astimezone(tz).strftime("%H:%M"),
        until=datetime.fromisoformat(detail["until"]).astimezone(tz).strftime("%H:%M"),
        link=link,
    )
