"""The owners' web app in a real browser (Playwright driving Debian's Chromium, headless):
an owner signs in, edits a text and watches the preview follow as they type, saves it,
reverts it, and tunes the tone; a staff member cannot change texts. Screenshots of the
pages land in test-output/screenshots/."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from admin.settings import AdminSettings
from tests.admin.conftest import PASSWORD, add_user
from tests.booking_service.helpers import Api

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    assert executable, "Chromium is needed: make setup-browser"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"])
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
        browser: Browser, admin: Api, admin_settings: AdminSettings, tenant: str) -> None:
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
    _, rendered = await admin.call("POST", f"/internal/v1/tenants/{tenant}/render", {"template": "handoff", "variables": {"customer_name": "Ana"}})
    assert rendered["text"].startswith("Hang on Ana, Rita is coming! 💇") and rendered["version"] == 3
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
        browser: Browser, admin: Api, admin_settings: AdminSettings, tenant: str) -> None:
    base = str(admin.client.make_url("")).rstrip("/")
    page = await signed_in(browser, base, await add_user(admin_settings, "staff", tenant), width=390)
    await page.goto(f"{base}/t/{tenant}/texts/greeting")
    await expect(page.locator("form.card")).to_contain_text("can read these texts but not change them")
    assert await page.locator("button[value=save]").count() == 0
    await shot(page, "text-editor-phone-staff")
