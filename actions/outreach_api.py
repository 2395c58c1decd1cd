"""Telling the outreach worker (outreach/) that a customer asked for a person, so that the
business's staff are alerted at once and the customer later hears if nobody came. A worker
that cannot be reached costs the alert, never the handoff itself (logged)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

import aiohttp
import structlog

from actions.settings import SETTINGS

log = structlog.get_logger("actions.outreach")


async def announce_handoff(
    conversation: str, instance: str, phone: str, until: float, business: dict[str, Any]
) -> bool:
    """POST the handoff to the worker; whether it took it. `business` is the tenant as the
    booking service describes it (its slug, zone and locale)."""
    tenant = business["slug"]
    body = {
        "conversation": conversation,
        "instance": instance,
        "phone": phone,
        "asked_at": datetime.now(timezone.utc).isoformat(),
        "until": datetime.fromtimestamp(until, timezone.utc).isoformat(),
        "timezone": business.get("timezone") or "UTC",
        "locale": business.get("locale") or "en",
    }
    url = f"{SETTINGS.outreach_url}/internal/v1/tenants/{quote(tenant, safe='')}/handoffs"
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                url,
                json=body,
                headers={"Authorization": f"Bearer {SETTINGS.internal_token}"},
                timeout=aiohttp.ClientTimeout(total=SETTINGS.request_timeout_s),
            ) as response,
        ):
            if response.status in (200, 201):
                return True
            log.warning("handoff_alert_refused", tenant=tenant, status=response.status)
    except (aiohttp.ClientError, TimeoutError) as error:
        log.warning("handoff_alert_unreachable", tenant=tenant, error=type(error).__name__)
    return False
