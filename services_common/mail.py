"""Sending email (quota alerts, password resets) through the configured SMTP server."""

from __future__ import annotations

import asyncio
import os
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

import structlog

log = structlog.get_logger("mail")


@dataclass(frozen=True)
class SmtpSettings:
    """Where email goes out (quota alerts, password resets); no host means none is sent."""

    host: str | None = None
    port: int = 25
    sender: str = "Booka <alerts@booka.local>"
    username: str | None = None
    password: str | None = None
    starttls: bool = False

    @classmethod
    def from_env(cls) -> SmtpSettings:
        env = os.environ.get
        return cls(
            host=env("SMTP_HOST") or None,
            port=int(env("SMTP_PORT", "25")),
            sender=env("SMTP_FROM", "Booka <alerts@booka.local>"),
            username=env("SMTP_USERNAME") or None,
            password=env("SMTP_PASSWORD") or None,
            starttls=env("SMTP_STARTTLS", "false").lower() in ("1", "true", "yes"),
        )


async def send_email(smtp: SmtpSettings, to: str, subject: str, body: str, purpose: str) -> bool:
    """True when the server took the message; failures are logged (never the address or body)."""
    if not smtp.host:
        log.warning("email_skipped", purpose=purpose, reason="SMTP_HOST is not set")
        return False
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = smtp.sender, to, subject
    message.set_content(body)

    def deliver() -> None:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as server:
            if smtp.starttls:
                server.starttls()
            if smtp.username:
                server.login(smtp.username, smtp.password or "")
            server.send_message(message)

    try:
        await asyncio.to_thread(deliver)
        return True
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("email_failed", purpose=purpose, error=type(exc).__name__)
        return False
