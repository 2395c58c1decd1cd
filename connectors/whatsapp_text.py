"""Turning Rasa's replies into WhatsApp text, and numbered-menu answers back into payloads.

WhatsApp has its own markup (`*bold*`, `_italic_`, `~strike~`, ```` ```mono``` ````) and
Baileys buttons and lists are not rendered by clients (contract §1.2), so buttons become
a numbered menu; the customer's "2" (or the option's title) is mapped back to the payload.
"""

from __future__ import annotations

import re
from typing import Any

# Evolution's own Chatwoot bridge rules (contract §4), applied in this order.
BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
ITALIC_STAR = re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![*\w])")
STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
BOLD_MARK = "\x00"  # placeholder so converted bold is not re-read as italic


def markdown_to_whatsapp(text: str) -> str:
    """Markdown as WhatsApp writes it: `**x**`→`*x*`, `*x*`→`_x_`, `~~x~~`→`~x~`,
    `` `x` ``→```` ```x``` ````, `[t](url)`→`t: url`."""
    text = LINK.sub(
        lambda m: m.group(2) if m.group(1) == m.group(2) else f"{m.group(1)}: {m.group(2)}", text
    )
    text = BOLD.sub(lambda m: f"{BOLD_MARK}{m.group(1)}{BOLD_MARK}", text)
    text = ITALIC_STAR.sub(r"_\1_", text)
    text = STRIKE.sub(r"~\1~", text)
    text = CODE.sub(r"```\1```", text)
    return text.replace(BOLD_MARK, "*")


def split_message(text: str, limit: int) -> list[str]:
    """Split a long reply into messages of at most `limit` characters, on paragraph
    boundaries first, then lines, then words, so each piece reads on its own."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    for separator in ("\n\n", "\n", " "):
        parts = text.split(separator)
        if len(parts) > 1:
            current = ""
            for part in parts:
                candidate = f"{current}{separator}{part}" if current else part
                if len(candidate) <= limit:
                    current = candidate
                    continue
                if current:
                    pieces.append(current)
                current = part
            if current:
                pieces.append(current)
            return [chunk for piece in pieces for chunk in split_message(piece, limit)]
    return [text[i : i + limit] for i in range(0, len(text), limit)]


def with_menu(text: str, buttons: list[dict[str, Any]]) -> str:
    """The reply with its buttons as a numbered menu; options the text already lists
    ("1. Fri 17:00") are not repeated."""
    titles = [str(b.get("title") or b.get("payload") or "") for b in buttons]
    if all(title and title in text for title in titles):
        return text
    menu = "\n".join(f"{n}. {title}" for n, title in enumerate(titles, start=1))
    return f"{text}\n\n{menu}" if text else menu


def menu_payloads(buttons: list[dict[str, Any]]) -> list[dict[str, str]]:
    """What to remember about a menu: each option's title and payload, in order."""
    return [
        {
            "title": str(b.get("title") or ""),
            "payload": str(b.get("payload") or b.get("title") or ""),
        }
        for b in buttons
    ]


def choose_from_menu(text: str, options: list[dict[str, str]]) -> str | None:
    """The payload the customer picked: "2", "2.", "#2", "option 2" or the option's title."""
    answer = text.strip().lower().rstrip(".!) ")
    number = re.fullmatch(r"(?:option\s*|number\s*|#)?(\d{1,2})", answer)
    if number and 1 <= int(number.group(1)) <= len(options):
        return options[int(number.group(1)) - 1]["payload"]
    for option in options:
        if option["title"] and option["title"].strip().lower() == answer:
            return option["payload"]
    return None
