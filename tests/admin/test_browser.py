"""The owners' web app in a real browser (Playwright driving Debian's Chromium, headless):
an owner signs in, edits a text and watches the preview follow as they type, saves it,
reverts it, and tunes the tone; a staff member cannot change texts; a manager adds a
service (offered at once), books it by hand and moves it past a conflict; each role lands
on its home and cannot reach another business; a superadmin onboards a business; an owner
reads the handoff queue and a transcript. Screenshots land in test-output/screenshots/."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from admin.settings import AdminSettings
from tests.admin.conftest import PASSWORD, add_user, create_tenant
from tests.admin.test_conversations import tracker_with
from tests.booking_service.helpers import Api, booking_body, new_tenant

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    assert executable, "Chromium is needed: make setup-browser"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        await launched.close()


async def signed_in(browser: Browser, base: str, email: str, width: int = 1200) -> Page:
    page = await browser.new_page(viewport={"width": width, "height": 900})
    await page.goto(base + "/login")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    return page


async def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_an_owner_edits_a_text_with_a_live_preview_then_reverts_it(
    browser: Browser, admin: Api, admin_settings: AdminSettings, tenant: str, engine: Api
) -> None:
    base = str(admin.client.make_url("")).rstrip("/")
    page = await signed_in(browser, base, await add_user(admin_settings, "owner", tenant))
    await expect(page.locator("h1")).to_contain_text("this week")
    await shot(page, "dashboard")
    await page.click("header >> text=Bot texts")
    await expect(page.locator("h1")).to_contain_text("What the bot says")
    await shot(page, "texts")
    await page.click("a[href$='/texts/handoff']")
    await page.fill("#body", "Hang on {{ customer_name }}, Rita is coming! 💇")
    await expect(page.locator("#preview .bubble")).to_have_text("Hang on Maria, Rita is coming! 💇")
    await page.click("code[data-var=business_name]")
    await expect(page.locator("#preview .bubble")).to_contain_text("Studio")
    await shot(page, "text-editor")
    await page.click("button[value=save]")
    await expect(page.locator("table")).to_contain_text("Rita is coming")
    await page.fill("#body", "Second version")
    await page.click("button[value=save]")
    await page.click("tr:has-text('Rita is coming') button[value=revert]")
    _, rendered = await engine.call(
        "POST",
        f"/internal/v1/tenants/{tenant}/render",
        {"template": "handoff", "variables": {"customer_name": "Ana"}},
    )
    assert (
        rendered["text"].startswith("Hang on Ana, Rita is coming! 💇") and rendered["version"] == 3
    )
    await page.goto(f"{base}/t/{tenant}/tone")
    await page.select_option("#preset", "formal")
    await expect(page.locator("#samples")).to_contain_text("Good day")
    await shot(page, "tone")
    await page.goto(f"{base}/t/{tenant}/usage")
    await shot(page, "usage")
    await page.goto(f"{base}/t/{tenant}/audit")
    await expect(page.locator("table")).to_contain_text("template saved")
    await shot(page, "audit")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_on_a_phone_a_staff_member_reads_texts_but_cannot_change_them(
    browser: Browser, admin: Api, admin_settings: AdminSettings, tenant: str
) -> None:
    base = str(admin.client.make_url("")).rstrip("/")
    page = await signed_in(
        browser, base, await add_user(admin_settings, "staff", tenant), width=390
    )
    await page.goto(f"{base}/t/{tenant}/texts/greeting")
    await expect(page.locator("form.card")).to_contain_text(
        "can read these texts but not change them"
    )
    assert await page.locator("button[value=save]").count() == 0
    await shot(page, "text-editor-phone-staff")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_manager_adds_a_service_books_it_by_hand_and_moves_it_past_a_conflict(
    browser: Browser, admin: Api, admin_settings: AdminSettings, booking: Api
) -> None:
    salon = await new_tenant(booking)
    base = str(admin.client.make_url("")).rstrip("/")
    page = await signed_in(browser, base, await add_user(admin_settings, "manager", salon.slug))
    await page.click("header >> text=Services & staff")
    await page.fill("#name", "Beard trim")
    await page.fill("#duration_min", "30")
    await page.fill("#price", "15")
    await page.check("label:has-text('Bruno') >> input[name=staff_ids]")
    await page.click("text=Add the service")
    await expect(page.locator("table").first).to_contain_text("Beard trim")
    await shot(page, "catalog")
    _, free = await booking.call(
        "GET", f"{salon.base}/availability?service=Beard%20trim&staff=any", expect=200
    )
    assert free["slots"] and {s["staff"]["name"] for s in free["slots"]} == {"Bruno"}, (
        "offered to customers at once"
    )
    await page.click("a:has-text('Bruno')")
    await expect(page.locator("h1")).to_contain_text("Bruno")
    await shot(page, "person")

    day = (date.today() + timedelta(days=2)).isoformat()
    await booking.call(
        "POST",
        f"{salon.base}/bookings",
        booking_body(
            salon, f"{day}T14:00:00+00:00", staff=salon.staff["Bruno"], phone="+351912000077"
        ),
        Idempotency_Key="browser-taken",
        expect=201,
    )
    await page.goto(f"{base}/t/{salon.slug}/calendar?date={day}")
    await page.select_option("#service", label="Beard trim (30 min)")
    await page.select_option("#staff", label="Bruno")
    await page.fill("#date", day)
    await page.fill("#time", "10:00")
    await page.fill("#cname", "Tiago Reis")
    await page.fill("#phone", "+351 912 000 088")
    await page.click("text=Book >> nth=-1")
    await expect(page.locator("[role=status]")).to_contain_text("Booked")
    block = page.locator(".lane[data-lane=Bruno] .block", has_text="Beard trim")
    await expect(block).to_contain_text("Tiago Reis")
    await shot(page, "calendar-day")
    await block.click()
    await expect(page.locator("h1")).to_contain_text("Beard trim")
    await page.fill("#time", "14:00")
    await page.click("text=Move the booking")
    await expect(page.locator("[role=alert]")).to_contain_text("Not changed")
    await shot(page, "booking-conflict")
    await page.locator("[role=alert] button").first.click()
    await expect(page.locator("table").nth(1)).to_contain_text("moved")
    await page.goto(f"{base}/t/{salon.slug}/calendar?view=week&date={day}")
    await expect(page.locator("table.week")).to_contain_text("Beard trim")
    await shot(page, "calendar-week")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_each_role_lands_on_its_home_and_a_superadmin_onboards_a_business(
    browser: Browser, admin: Api, admin_settings: AdminSettings, booking: Api, tmp_path
) -> None:  # noqa: ANN001
    salon, other = await new_tenant(booking), await new_tenant(booking)
    base = str(admin.client.make_url("")).rstrip("/")
    for role in ("owner", "manager", "staff"):
        page = await signed_in(
            browser,
            base,
            await add_user(admin_settings, role, salon.slug),
            width=390 if role == "staff" else 1200,
        )
        await expect(page.locator("h1")).to_contain_text("this week")
        assert await page.locator("header >> text=Team").count() == (1 if role == "owner" else 0)
        assert await page.locator("header >> text=Conversations").count() == (
            0 if role == "staff" else 1
        )
        tampered = await page.goto(
            f"{base}/t/{other.slug}/calendar"
        )  # another business's page, by editing the URL
        assert (
            tampered.status == 404
            and "no such page" in await page.content()
            and other.slug not in await page.content()
        )
        if role == "owner":
            await page.goto(f"{base}/t/{salon.slug}/team")
            await shot(page, "team")
        if role == "staff":
            await page.goto(f"{base}/t/{salon.slug}/calendar")
            await expect(page.locator("text=not linked")).to_be_visible()
            await shot(page, "calendar-phone-staff")
        await page.close()

    page = await signed_in(browser, base, await add_user(admin_settings, "superadmin", None))
    await expect(page.locator("h1")).to_have_text("Businesses")
    await shot(page, "businesses")
    await page.click("text=+ Add a business")
    await page.fill("#name", f"Clinica {salon.slug[-6:]}")
    await page.select_option("#vertical", "clinic")
    await page.fill("#first_staff", "Dr. Lopes")
    await page.fill("#owner_email", f"owner@{salon.slug}.example")
    await page.click("button[type=submit] >> nth=-1")
    await expect(page.locator("h1")).to_contain_text("is ready")
    await shot(page, "onboarded")
    await page.goto(f"{base}/tenants")
    await expect(page.locator("table[aria-label=businesses]")).to_contain_text(
        f"Clinica {salon.slug[-6:]}"
    )


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_an_owner_reads_the_conversations_and_the_handoff_queue(
    browser: Browser, make_admin, admin_settings: AdminSettings, tenant: str, tmp_path
) -> None:  # noqa: ANN001
    tracker = tracker_with(tmp_path / "tracker.db", tenant)
    admin = await make_admin(
        dataclasses.replace(admin_settings, tracker_store_url=f"sqlite:///{tracker}")
    )
    base = str(admin.client.make_url("")).rstrip("/")
    page = await signed_in(browser, base, await add_user(admin_settings, "owner", tenant))
    await page.click("header >> text=Conversations")
    await expect(page.locator("table[aria-label='handoff queue']")).to_contain_text("+351911111111")
    await shot(page, "conversations")
    await page.click("table[aria-label='handoff queue'] >> text=+351911111111")
    await expect(page.locator(".msg.person")).to_contain_text("Rita here!")
    await shot(page, "conversation")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_portuguese_owner_works_in_portuguese_and_switches_to_spanish(
    browser: Browser, admin: Api, admin_settings: AdminSettings, booking: Api
) -> None:
    """A browser set to Portuguese gets the sign-in page in Portuguese; the Porto salon's
    pages are in its own language; the header's menu switches this user to Spanish."""
    porto = await create_tenant(booking, locale="pt-PT")
    email = await add_user(admin_settings, "owner", porto)
    base = str(admin.client.make_url("")).rstrip("/")
    context = await browser.new_context(locale="pt-PT", viewport={"width": 1200, "height": 900})
    page = await context.new_page()
    await page.goto(base + "/login")
    await expect(page.locator("h1")).to_have_text("Entrar no Booka")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page.locator("h1")).to_contain_text("esta semana")
    await expect(page.locator("html")).to_have_attribute("lang", "pt-PT")
    await page.click("header >> text=Serviços e equipa")
    await expect(page.locator("h1")).to_have_text("Serviços e equipa")
    await expect(page.locator("label[for=aliases]")).to_contain_text("Outras palavras")
    await shot(page, "catalog-pt-PT")
    await page.select_option("#language", "es")
    await expect(page.locator("h1")).to_have_text("Servicios y equipo")
    await expect(page.locator("html")).to_have_attribute("lang", "es")
    await shot(page, "catalog-es")
    await context.close()
