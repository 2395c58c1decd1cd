"""The team page over HTTP with a real SMTP server: an owner invites a staff member linked to
a person (the email's link sets the password; the new login sees only that person's
calendar), relinks and removes logins (sessions end at once); managers and staff cannot."""

from __future__ import annotations

import dataclasses
import email as email_parser
import re
from datetime import date, timedelta
from email import policy as email_policy

from aiosmtpd.controller import Controller

from admin.settings import AdminSettings
from services_common.mail import SmtpSettings
from tests.admin.conftest import add_user, csrf_of, sign_in
from tests.admin.test_llm_gateway import Inbox
from tests.booking_service.helpers import Api, booking_body, new_tenant
from tests.ports import free_port


async def test_an_owner_invites_a_staff_member_who_sees_only_their_calendar_and_removes_them(
    make_admin, admin_settings: AdminSettings, booking: Api
) -> None:  # noqa: ANN001
    salon = await new_tenant(booking, locale="pt-PT")  # whose owner reads the app in English
    day = date.today() + timedelta(days=2)
    made = {}
    for name, clock in (("Ana", "10:00"), ("Bruno", "11:00")):
        _, made[name] = await booking.call(
            "POST",
            f"{salon.base}/bookings",
            booking_body(salon, f"{day}T{clock}:00+00:00", staff=salon.staff[name]),
            Idempotency_Key=f"team-{name}",
            expect=201,
        )
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        settings = dataclasses.replace(
            admin_settings,
            smtp=SmtpSettings(host="127.0.0.1", port=smtp.port),
            public_url="https://admin.booka.test",
        )
        owner_app, staff_app = await make_admin(settings), await make_admin(settings)
        owner = owner_app.client
        await sign_in(owner, await add_user(admin_settings, "owner", salon.slug))
        csrf = csrf_of(await (await owner.get(f"/t/{salon.slug}/team")).text())
        await owner.post("/language", data={"csrf_token": csrf, "language": "en"})
        invited = f"bruno-{salon.slug}@example.com"
        answer = await owner.post(
            f"/t/{salon.slug}/team/invite",
            data={
                "csrf_token": csrf,
                "email": invited,
                "role": "staff",
                "staff_id": str(salon.staff["Bruno"]),
            },
        )
        assert answer.status == 200 and "Invitation sent" in await answer.text()
        [(_, recipients, message)] = inbox.messages
        mail = email_parser.message_from_string(message, policy=email_policy.default)
        body = mail.get_content()
        link = re.search(r"https://admin\.booka\.test(/password-reset/\S+)", body).group(1)
        assert recipients == [invited] and "três dias" in body, "the business's language"
        assert mail["Subject"] == f"Já pode entrar em Salon {salon.slug} no Booka"

        staff = staff_app.client
        form = await (await staff.get(link)).text()
        await staff.post(
            link, data={"password": "bruno's own passphrase", "csrf_token": csrf_of(form)}
        )
        assert await sign_in(staff, invited, "bruno's own passphrase") == 303
        calendar = await (await staff.get(f"/t/{salon.slug}/calendar?date={day}")).text()
        assert made["Bruno"]["id"] in calendar and made["Ana"]["id"] not in calendar
        assert (await staff.get(f"/t/{salon.slug}/team")).status == 403

        page = await (await owner.get(f"/t/{salon.slug}/team")).text()
        user_id = re.search(
            r'name="user_id" value="(\d+)">\s*<select name="staff_id" aria-label="person of '
            + re.escape(invited),
            page,
        ).group(1)
        await owner.post(
            f"/t/{salon.slug}/team/person",
            data={"csrf_token": csrf, "user_id": user_id, "staff_id": str(salon.staff["Ana"])},
        )
        calendar = await (await staff.get(f"/t/{salon.slug}/calendar?date={day}")).text()
        assert made["Ana"]["id"] in calendar and made["Bruno"]["id"] not in calendar, (
            "relinked at once"
        )

        duplicate = await owner.post(
            f"/t/{salon.slug}/team/invite",
            data={"csrf_token": csrf, "email": invited, "role": "manager"},
        )
        assert duplicate.status == 422 and "exists already" in await duplicate.text()
        await owner.post(
            f"/t/{salon.slug}/team/remove", data={"csrf_token": csrf, "user_id": user_id}
        )
        assert (
            await staff.get(f"/t/{salon.slug}/calendar", allow_redirects=False)
        ).status == 303, "the removed login's session ended"
        log = await (await owner.get(f"/t/{salon.slug}/audit")).text()
        assert "login invited" in log and "login linked" in log and "login removed" in log

        other = await new_tenant(booking)
        assert (
            await owner.post(
                f"/t/{other.slug}/team/remove", data={"csrf_token": csrf, "user_id": user_id}
            )
        ).status == 404
    finally:
        smtp.stop()


async def test_a_manager_cannot_manage_the_team(
    web, admin_settings: AdminSettings, tenant: str
) -> None:  # noqa: ANN001
    await sign_in(web, await add_user(admin_settings, "manager", tenant))
    assert (await web.get(f"/t/{tenant}/team")).status == 403
    page = await (await web.get(f"/t/{tenant}/calendar")).text()
    refused = await web.post(
        f"/t/{tenant}/team/invite",
        data={"csrf_token": csrf_of(page), "email": "x@example.com", "role": "owner"},
    )
    assert refused.status == 403
