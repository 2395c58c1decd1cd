"""The Automations page: an owner sets reminder times, quiet hours, follow-ups and who hears
of a request for a person, through the real outreach worker's API (its tables on a SQLite
file, its queue in process); bad values are refused with the reason; the outbox shows a
failed message and why, and the retry button puts it back in the queue. Staff see none of it."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

from booka_common.crypto import Keyring
from outreach import store
from outreach.api import create_app as create_outreach_app
from outreach.jobs import make_app as make_queue
from outreach.migrate import CHAIN
from outreach.planning import Planned
from outreach.settings import OutreachSettings
from outreach.work import Outreach
from tests.admin.conftest import add_user, csrf_of, sign_in, url_of
from tests.booking_service.helpers import Api


async def test_owner_sets_automations_and_retries_a_failed_message(
    aiohttp_client,
    make_admin,
    admin_settings,
    booking: Api,
    tenant: str,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'outreach.db'}"
    CHAIN.upgrade(database_url)
    settings = OutreachSettings(
        database_url,
        admin_settings.internal_token,
        admin_settings.secret_keys_spec,
        admin_settings.booking_service_url,
        "http://127.0.0.1:9/webhooks/evolution",
    )
    worker, queue = Outreach(settings), make_queue(settings)
    await worker.start()
    async with queue.open_async():
        outreach_api = await aiohttp_client(
            create_outreach_app(worker, queue, settings.internal_token)
        )
        admin = await make_admin(
            dataclasses.replace(admin_settings, outreach_url=url_of(Api(outreach_api, "")))
        )
        _, cut = await booking.call(
            "POST",
            f"/v1/tenants/{tenant}/services",
            {"name": "Haircut", "duration_min": 30, "price": "30"},
            expect=201,
        )
        web = admin.client
        await sign_in(web, await add_user(admin_settings, "owner", tenant))
        page = await web.get(f"/t/{tenant}/automations")
        html = await page.text()
        assert page.status == 200 and 'value="24"' in html and 'value="2"' in html

        form = {
            "csrf_token": csrf_of(html),
            "reminder_1": "48",
            "reminder_2": "1,5",
            "reminder_3": "",
            "quiet_start": "22:00",
            "quiet_end": "07:30",
            "change_notices": "on",
            "no_show_follow_up": "on",
            "no_show_delay_min": "45",
            "rebook_nudges": "on",
            f"rebook_{cut['id']}": "6",
            "alert_emails": "frontdesk@salon.test, owner@salon.test",
            "daily_cap_customer": "2",
        }
        saved = await web.post(f"/t/{tenant}/automations", data=form, allow_redirects=False)
        assert saved.status == 303
        async with worker.engine.connect() as conn:
            chosen = (await store.settings_of(conn, tenant)).as_json()
        assert chosen["reminder_offsets"] == [2880, 90] and chosen["quiet_end"] == "07:30"
        assert chosen["rebook_after_days"] == {str(cut["id"]): 42}
        assert chosen["alert_emails"] == ["frontdesk@salon.test", "owner@salon.test"]
        assert chosen["change_notices"] and chosen["rebook_nudges"]
        assert chosen["no_show_delay_min"] == 45 and chosen["daily_cap_customer"] == 2

        for wrong, why in (
            ({"reminder_1": "soon"}, "number of hours"),
            ({"alert_emails": "not an address"}, "alert_emails"),
            ({"quiet_start": "25:00"}, "quiet_start"),
            ({"daily_cap_customer": "many"}, "per customer per day must be a whole number"),
            ({"daily_cap_customer": "50"}, "daily_cap_customer"),
        ):
            refused = await web.post(f"/t/{tenant}/automations", data={**form, **wrong})
            assert refused.status == 422 and why in await refused.text(), wrong

        keyring = Keyring.parse(settings.secret_keys_spec)
        due = datetime.now(timezone.utc) - timedelta(minutes=1)
        async with worker.engine.begin() as conn:
            [(message_id, _)] = await store.plan(
                conn,
                keyring,
                store.Recipient(tenant, tenant, "+351912000777", "b-1"),
                [Planned(f"reminder:b-1:{due:%H%M%S}", "reminder", due, {"offset_min": 60})],
            )
            await store.finish(conn, message_id, "failed", error="WhatsApp did not take it (500)")
        outbox = await (await web.get(f"/t/{tenant}/automations?status=failed")).text()
        assert "WhatsApp did not take it (500)" in outbox and "Retry" in outbox
        assert "+351912000777" not in outbox
        retried = await web.post(
            f"/t/{tenant}/automations/messages/{message_id}/retry",
            data={"csrf_token": csrf_of(outbox)},
            allow_redirects=False,
        )
        assert retried.status == 303
        async with worker.engine.connect() as conn:
            [row] = await store.listing(conn, tenant, ["scheduled", "sending", "sent"], 5)
        assert row["id"] == message_id

        staff = (await make_admin(admin_settings)).client
        await sign_in(staff, await add_user(admin_settings, "staff", tenant))
        assert (await staff.get(f"/t/{tenant}/automations")).status == 403
    await worker.stop()
