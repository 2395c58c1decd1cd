"""The owners' web app over HTTP: signing in (argon2, lockout, sessions), CSRF on every
form, roles, other tenants' pages answering 404, editing a text with a live preview and
reverting it, and the audit log that records each change with before and after."""

from __future__ import annotations

import re
import uuid

from aiohttp.test_utils import TestClient

from admin.auth import MAX_FAILURES
from admin.settings import AdminSettings
from services_common.sql import make_async_engine
from tests.admin.conftest import PASSWORD, add_user, create_tenant, csrf_of, sign_in
from tests.booking_service.helpers import Api


async def test_an_owner_signs_in_edits_a_text_with_a_preview_reverts_it_and_the_audit_log_shows_it(
    web: TestClient, admin: Api, admin_settings: AdminSettings, tenant: str, engine: Api
) -> None:
    email = await add_user(admin_settings, "owner", tenant)
    assert (await web.get("/t/" + tenant + "/texts", allow_redirects=False)).status == 303, (
        "signed out: to the login page"
    )
    assert await sign_in(web, email) == 303
    listing = await (await web.get(f"/t/{tenant}/texts")).text()
    assert "booking confirmed" in listing and "What the bot says" in listing
    editor = await (await web.get(f"/t/{tenant}/texts/handoff")).text()
    csrf = csrf_of(editor)
    preview = await (
        await web.post(
            f"/t/{tenant}/texts/handoff/preview",
            data={"body": "Hold on {{ customer_name }}!", "csrf_token": csrf},
        )
    ).text()
    assert "Hold on Maria!" in preview
    broken = await web.post(
        f"/t/{tenant}/texts/handoff",
        data={"body": "Hi {{ nobody }}", "csrf_token": csrf, "action": "save"},
    )
    assert broken.status == 422 and "unknown variable" in await broken.text()
    for text in ("One moment please.", "A colleague will answer shortly."):
        saved = await web.post(
            f"/t/{tenant}/texts/handoff",
            data={"body": text, "csrf_token": csrf, "action": "save"},
            allow_redirects=False,
        )
        assert saved.status == 303
    await web.post(
        f"/t/{tenant}/texts/handoff", data={"version": "1", "csrf_token": csrf, "action": "revert"}
    )
    _, rendered = await engine.call(
        "POST", f"/internal/v1/tenants/{tenant}/render", {"template": "handoff"}, expect=200
    )
    assert rendered["text"] == "One moment please." and rendered["version"] == 3
    log = await (await web.get(f"/t/{tenant}/audit")).text()
    assert (
        log.count("template saved") == 3
        and email in log
        and "A colleague will answer shortly." in log
    )


async def test_a_form_without_the_sessions_csrf_token_is_refused(
    web: TestClient, admin_settings: AdminSettings, tenant: str
) -> None:
    await sign_in(web, await add_user(admin_settings, "owner", tenant))
    refused = await web.post(
        f"/t/{tenant}/texts/handoff", data={"body": "Forged", "action": "save"}
    )
    assert refused.status == 403
    refused = await web.post(
        f"/t/{tenant}/texts/handoff",
        data={"body": "Forged", "action": "save", "csrf_token": "guess"},
    )
    assert refused.status == 403
    login = await web.post(
        "/login", data={"email": "x@example.com", "password": PASSWORD, "csrf_token": "guess"}
    )
    assert login.status == 403


async def test_repeated_failures_lock_the_account_even_for_the_right_password(
    web: TestClient, admin_settings: AdminSettings, tenant: str
) -> None:
    email = await add_user(admin_settings, "manager", tenant)
    for _ in range(MAX_FAILURES):
        assert await sign_in(web, email, "wrong password!") == 401
    assert await sign_in(web, email) == 401
    page = await (await web.get("/login")).text()
    assert "Sign in" in page
    assert await sign_in(web, "nobody@example.com") == 401


async def test_another_tenants_pages_answer_404_and_staff_cannot_change_texts(
    web: TestClient, admin_settings: AdminSettings, booking: Api, tenant: str
) -> None:
    other = await create_tenant(booking)
    await sign_in(web, await add_user(admin_settings, "staff", tenant))
    assert (await web.get(f"/t/{tenant}/texts/greeting")).status == 200
    for path in (
        f"/t/{other}/texts",
        f"/t/{other}/texts/greeting",
        f"/t/{other}/audit",
        "/tenants",
    ):
        assert (await web.get(path)).status == 404, path
    csrf = csrf_of(await (await web.get(f"/t/{tenant}/texts/greeting")).text())
    assert (
        await web.post(
            f"/t/{tenant}/texts/greeting", data={"body": "Yo", "csrf_token": csrf, "action": "save"}
        )
    ).status == 403
    assert (
        await web.post(
            f"/t/{other}/texts/greeting", data={"body": "Yo", "csrf_token": csrf, "action": "save"}
        )
    ).status == 404


async def test_a_superadmin_sees_every_business_and_signing_out_ends_the_session(
    web: TestClient, admin_settings: AdminSettings, tenant: str
) -> None:
    await sign_in(web, await add_user(admin_settings, "superadmin", None))
    assert tenant in await (await web.get("/tenants")).text()
    assert (await web.get(f"/t/{tenant}/texts")).status == 200
    csrf = csrf_of(await (await web.get("/tenants")).text())
    await web.post("/logout", data={"csrf_token": csrf})
    assert (await web.get("/tenants", allow_redirects=False)).status == 303


async def test_the_session_cookie_is_http_only_and_passwords_are_argon2(
    web: TestClient, admin_settings: AdminSettings, tenant: str
) -> None:
    email = await add_user(admin_settings, "owner", tenant)
    form = await (await web.get("/login")).text()
    response = await web.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(form)},
        allow_redirects=False,
    )
    cookie = response.cookies["booka_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    from sqlalchemy import select

    from admin.tables import users

    engine = make_async_engine(admin_settings.database_url)
    async with engine.connect() as conn:
        stored = (
            await conn.execute(select(users.c.password_hash).where(users.c.email == email))
        ).scalar()
    await engine.dispose()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


async def test_the_tone_page_previews_a_tone_before_saving_and_the_change_is_audited(
    web: TestClient, admin: Api, admin_settings: AdminSettings, tenant: str, engine: Api
) -> None:
    await sign_in(web, await add_user(admin_settings, "owner", tenant))
    page = await (await web.get(f"/t/{tenant}/tone")).text()
    assert "speaks friendly by default" in page and "👋" in page
    csrf = csrf_of(page)
    preview = await (
        await web.post(
            f"/t/{tenant}/tone/preview",
            data={
                "csrf_token": csrf,
                "preset": "formal",
                "greeting": "Dear",
                "address": "full_name",
            },
        )
    ).text()
    assert "Dear, Maria Silva." in preview and "👋" not in preview
    _, before = await engine.call("GET", f"/v1/tenants/{tenant}/tone", expect=200)
    assert before["preset"] == "friendly", "a preview saves nothing"
    saved = await web.post(
        f"/t/{tenant}/tone",
        data={
            "csrf_token": csrf,
            "preset": "casual",
            "greeting": "Hey there",
            "address": "first_name",
            "mode": "variants",
            "sign_off": "",
        },
        allow_redirects=False,
    )
    assert saved.status == 303
    _, after = await engine.call("GET", f"/v1/tenants/{tenant}/tone", expect=200)
    assert (after["preset"], after["greeting"], after["emoji"]) == ("casual", "Hey there", False)
    assert "tone changed" in await (await web.get(f"/t/{tenant}/audit")).text()


async def test_the_usage_page_shows_the_months_calls_and_only_a_superadmin_changes_the_plan(
    web: TestClient, admin: Api, admin_settings: AdminSettings, tenant: str, engine: Api
) -> None:
    await engine.call(
        "POST",
        f"/internal/v1/tenants/{tenant}/llm",
        {"purpose": "fallback", "messages": [{"role": "user", "content": "hi"}]},
        expect=200,
    )
    await sign_in(web, await add_user(admin_settings, "owner", tenant))
    page = await (await web.get(f"/t/{tenant}/usage")).text()
    assert "1 call ·" in page and "fallback" in page and 'aria-label="tokens per day"' in page
    csrf = csrf_of(page)
    await web.post(
        f"/t/{tenant}/usage",
        data={
            "csrf_token": csrf,
            "alert_email": "boss@studio.test",
            "plan": "custom",
            "monthly_token_budget": "999999999",
        },
    )
    _, quota = await engine.call("GET", f"/v1/tenants/{tenant}/quota", expect=200)
    assert quota["alert_email"] == "boss@studio.test" and quota["plan"] == "free", (
        "an owner cannot give itself a bigger plan"
    )
    bad = await web.post(
        f"/t/{tenant}/usage", data={"csrf_token": csrf, "alert_email": "not-an-email"}
    )
    assert bad.status == 422 and "alert_email" in await bad.text()


async def test_a_forgotten_password_is_reset_through_a_link_sent_by_email(
    make_admin, admin_settings: AdminSettings, tenant: str
) -> None:  # noqa: ANN001
    import dataclasses
    import email as email_parser
    from email import policy as email_policy

    from aiosmtpd.controller import Controller

    from services_common.mail import SmtpSettings
    from tests.admin.test_llm_gateway import Inbox
    from tests.ports import free_port

    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        admin = await make_admin(
            dataclasses.replace(
                admin_settings,
                smtp=SmtpSettings(host="127.0.0.1", port=smtp.port),
                public_url="https://admin.booka.test",
            )
        )
        web = admin.client
        email = await add_user(admin_settings, "owner", tenant)
        for address in (email, "nobody@example.com"):
            form = await (await web.get("/password-reset")).text()
            answer = await (
                await web.post(
                    "/password-reset", data={"email": address, "csrf_token": csrf_of(form)}
                )
            ).text()
            assert "we've emailed it a link" in answer
        [(_, recipients, message)] = inbox.messages
        assert recipients == [email]
        body = email_parser.message_from_string(message, policy=email_policy.default).get_content()
        link = re.search(r"https://admin\.booka\.test(/password-reset/\S+)", body).group(1)
        form = await (await web.get(link)).text()
        assert (
            await web.post(link, data={"password": "short", "csrf_token": csrf_of(form)})
        ).status == 422
        done = await web.post(
            link,
            data={"password": "a brand new passphrase", "csrf_token": csrf_of(form)},
            allow_redirects=False,
        )
        assert done.status == 303
        assert await sign_in(web, email) == 401
        assert await sign_in(web, email, "a brand new passphrase") == 303
        assert (
            await web.post(
                link, data={"password": "another new passphrase", "csrf_token": csrf_of(form)}
            )
        ).status == 422
    finally:
        smtp.stop()


async def test_a_superadmin_onboards_a_clinic_that_can_take_bookings_and_whose_owner_can_sign_in(
    web: TestClient, admin: Api, booking: Api, admin_settings: AdminSettings, engine: Api
) -> None:
    await sign_in(web, await add_user(admin_settings, "superadmin", None))
    csrf = csrf_of(await (await web.get("/onboarding")).text())
    slug = f"clinic-{uuid.uuid4().hex[:6]}"
    form = {
        "csrf_token": csrf,
        "name": "Dr Rossi Clinic",
        "slug": slug,
        "vertical": "clinic",
        "timezone": "Europe/Rome",
        "locale": "en-GB",
        "country": "IT",
        "currency": "EUR",
        "owner_email": f"rossi-{slug}@example.com",
        "first_staff": "Dr Rossi",
    }
    missing = await web.post("/onboarding", data={**form, "first_staff": ""})
    assert missing.status == 422 and "first staff member" in await missing.text()
    done = await (await web.post("/onboarding", data=form)).text()
    assert "Dr Rossi Clinic is ready" in done
    password = re.search(r"shown only now: <code>([^<]+)</code>", done).group(1)
    _, services = await booking.call("GET", f"/v1/tenants/{slug}/services", expect=200)
    assert {s["name"] for s in services["services"]} == {"Check-up", "Consultation", "Follow-up"}
    _, free = await booking.call(
        "GET", f"/v1/tenants/{slug}/availability?service=Check-up&staff=any", expect=200
    )
    assert free["slots"], "the new clinic can be booked at once"
    _, greeting = await engine.call(
        "POST", f"/internal/v1/tenants/{slug}/render", {"template": "greeting"}, expect=200
    )
    assert greeting["text"].startswith("Good day. Thank you for contacting Dr Rossi Clinic."), (
        "a clinic speaks formally"
    )
    again = await web.post("/onboarding", data=form)
    assert again.status == 422 and "already exists" in await again.text()
    owner = admin.client
    await web.post("/logout", data={"csrf_token": csrf})
    assert await sign_in(owner, f"rossi-{slug}@example.com", password) == 303
    assert (await owner.get("/onboarding")).status == 404


async def test_the_dashboard_counts_the_weeks_appointments_conversations_and_conversion(
    make_admin, admin_settings: AdminSettings, booking: Api, tmp_path
) -> None:  # noqa: ANN001
    import dataclasses
    import sqlite3
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from admin.dashboard import this_week
    from tests.booking_service.helpers import booking_body, new_tenant

    salon = await new_tenant(booking)
    tz = ZoneInfo("Europe/Lisbon")
    days = [day + timedelta(days=7) for day in this_week(tz)]  # next week, seen on its Wednesday
    now = datetime.combine(days[2], time(12, 0), tz)
    free = {}
    for day in (days[2], days[4]):  # one appointment "today", one on Friday
        _, free[day] = await booking.call(
            "GET",
            f"{salon.base}/availability?service=Haircut&staff=any"
            f"&from={day.isoformat()}&to={day.isoformat()}",
            expect=200,
        )
    taken = [free[days[2]]["slots"][-1], free[days[4]]["slots"][0]]
    for number, slot in enumerate(taken):
        await booking.call(
            "POST",
            f"{salon.base}/bookings",
            booking_body(salon, slot["start"], phone=f"+35191200000{number}", channel="whatsapp"),
            Idempotency_Key=f"dash-{number}",
            expect=201,
        )
    tracker = tmp_path / "tracker.db"  # Rasa's SQL tracker store table, as Rasa writes it
    with sqlite3.connect(tracker) as db:
        db.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
            " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),"
            " action_name VARCHAR(255), data TEXT)"
        )
        monday = datetime.combine(days[0], time(0, 0), tz).timestamp()
        at = [monday + 1, monday + 3600, now.timestamp() - 60, now.timestamp()]
        rows = [(f"{salon.slug}:c{n}", "user", at[n]) for n in range(4)] + [
            (
                f"{salon.slug}:c0",
                "user",
                at[3],
            ),  # Monday's customer again on Wednesday: counted that day too
            (f"{salon.slug}:c9", "user", monday - 1),  # Sunday before: last week
            ("someone-else:c1", "user", now.timestamp()),
        ]
        db.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp) VALUES (?, ?, ?)", rows
        )
    admin = await make_admin(
        dataclasses.replace(
            admin_settings, tracker_store_url=f"sqlite:///{tracker}", clock=lambda: now
        )
    )
    owner = await add_user(admin_settings, "owner", salon.slug)
    await sign_in(admin.client, owner)
    page = await (await admin.client.get(f"/t/{salon.slug}")).text()
    numbers = re.findall(r'<p style="font-size:2rem;margin:0">([^<]+)</p>', page)
    assert numbers[:3] == [
        "1",
        "2",
        "5",
    ], "today's appointments, the week's, conversations (customer per day)"
    assert numbers[3] == "0%", "both were booked before this week began"
    assert 'aria-label="appointments per day"' in page


def test_conversion_counts_whatsapp_bookings_made_this_week() -> None:
    from datetime import date, timedelta
    from zoneinfo import ZoneInfo

    from admin.dashboard import summarise

    days = [date(2026, 11, 30) + timedelta(days=n) for n in range(7)]
    made = {"start": "2026-12-02T10:00:00+00:00", "status": "confirmed", "created_by": "whatsapp"}
    bookings = [
        {**made, "created_at": "2026-12-01T09:00:00+00:00"},
        {**made, "created_at": "2026-11-29T09:00:00+00:00"},  # last week
        {**made, "created_at": "2026-12-01T09:00:00+00:00", "created_by": "admin"},
        {**made, "start": "2027-01-05T10:00:00+00:00", "created_at": "2026-12-02T09:00:00+00:00"},
    ]
    week = summarise(days, bookings, {day: 1 for day in days[:4]}, ZoneInfo("Europe/Lisbon"))
    assert week.appointments[days[2]] == 3 and sum(week.appointments.values()) == 3
    assert week.booked_on_whatsapp == 2 and week.conversion == 0.5


async def test_an_owner_adds_a_person_and_a_service_that_the_bot_can_offer_at_once(
    web: TestClient, admin_settings: AdminSettings, booking: Api
) -> None:
    from tests.booking_service.helpers import new_tenant

    salon = await new_tenant(booking)
    await sign_in(web, await add_user(admin_settings, "owner", salon.slug))
    csrf = csrf_of(await (await web.get(f"/t/{salon.slug}/catalog")).text())
    assert (
        await web.post(
            f"/t/{salon.slug}/catalog/staff",
            data={"csrf_token": csrf, "name": "Carla"},
            allow_redirects=False,
        )
    ).status == 303
    page = await (await web.get(f"/t/{salon.slug}/catalog")).text()
    carla = re.search(r'name="staff_ids" value="(\d+)"> Carla', page).group(1)
    refused = await web.post(
        f"/t/{salon.slug}/catalog/services",
        data={"csrf_token": csrf, "name": "Scalp massage", "duration_min": "2"},
    )
    assert refused.status == 422 and "duration min" in await refused.text()
    added = await web.post(
        f"/t/{salon.slug}/catalog/services",
        data={
            "csrf_token": csrf,
            "name": "Scalp massage",
            "aliases": "head massage, scalp",
            "duration_min": "30",
            "price": "25",
            "staff_ids": carla,
        },
        allow_redirects=False,
    )
    assert added.status == 303
    _, free = await booking.call(
        "GET", f"{salon.base}/availability?service=head%20massage&staff=Carla", expect=200
    )
    assert free["slots"] and all(slot["staff"]["name"] == "Carla" for slot in free["slots"])
    log = await (await web.get(f"/t/{salon.slug}/audit")).text()
    assert "service added" in log and "staff added" in log


async def test_the_texts_list_shows_each_texts_own_languages_and_filters_by_one(
    web: TestClient, admin_settings: AdminSettings, tenant: str
) -> None:
    await sign_in(web, await add_user(admin_settings, "manager", tenant))
    csrf = csrf_of(await (await web.get(f"/t/{tenant}/texts/handoff?locale=pt")).text())
    for locale in ("pt", "en"):
        await web.post(
            f"/t/{tenant}/texts/handoff",
            data={
                "body": f"Um momento ({locale})",
                "csrf_token": csrf,
                "action": "save",
                "locale": locale,
                "tone": "any",
            },
        )
    listing = await (await web.get(f"/t/{tenant}/texts")).text()
    assert "yours · en, pt" in listing and "/texts/greeting" in listing
    only_pt = await (await web.get(f"/t/{tenant}/texts?locale=pt")).text()
    assert "/texts/handoff?locale=pt" in only_pt and "/texts/greeting" not in only_pt


async def test_with_the_booking_service_down_a_page_says_so_instead_of_not_found(
    make_admin, admin_settings: AdminSettings, tenant: str
) -> None:  # noqa: ANN001
    import dataclasses

    from tests.ports import free_port

    admin = await make_admin(
        dataclasses.replace(admin_settings, booking_service_url=f"http://127.0.0.1:{free_port()}")
    )
    await sign_in(admin.client, await add_user(admin_settings, "owner", tenant))
    answer = await admin.client.get(f"/t/{tenant}/calendar")
    assert answer.status == 503 and "did not answer" in await answer.text()
