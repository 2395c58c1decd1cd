"""The owners' web app in Portuguese and Spanish: the catalogs are complete and current, the
translations keep every placeholder, and a request is shown in the user's own language, else
their business's, else the browser's; a signed-out visitor can pick one on the sign-in page."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from admin import booking_words, i18n
from admin.settings import AdminSettings
from tests.admin.conftest import add_user, create_tenant, csrf_of, sign_in
from tests.booking_service.helpers import Api, booking_body, new_tenant

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "admin" / "locale"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy": None, "N_": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]|%%")


def extracted() -> set[str]:
    """The texts marked in admin/ today, as `make admin-messages` extracts them."""
    found: set[str] = set()
    methods = [
        ("**/pages/**.html", "jinja2"),
        ("**.py", "python"),
    ]
    options = {"**/pages/**.html": {"extensions": "jinja2.ext.i18n"}}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT / "admin"), methods, options_map=options, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalog(code: str):  # noqa: ANN201
    with (LOCALE / code / "LC_MESSAGES" / "admin.po").open("rb") as source:
        return read_po(source, locale=code)


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def translated(code: str) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Each text of a catalog as (msgid and plural, its translations), headers left out."""
    return [
        (
            m.id if isinstance(m.id, tuple) else (m.id,),
            m.string if isinstance(m.string, tuple) else (m.string,),
        )
        for m in catalog(code)
        if m.id
    ]


def mismatched(ids: tuple[str, ...], strings: tuple[str, ...]) -> bool:
    return any(placeholders(s) != placeholders(ids[-1]) for s in strings)


def test_the_template_holds_every_marked_text() -> None:
    with (LOCALE / "messages.pot").open("rb") as source:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(source) if m.id}
    assert extracted() == template, "run `make admin-messages` and translate what it adds"


@pytest.mark.parametrize("code", ["pt_PT", "es"])
def test_every_text_is_translated_with_the_same_placeholders(code: str) -> None:
    texts = translated(code)
    assert [ids[0] for ids, strings in texts if not all(strings)] == []
    assert [ids[0] for ids, strings in texts if mismatched(ids, strings)] == []


def test_brazilian_portuguese_says_only_what_differs_and_falls_back_to_portugal() -> None:
    brazil = [(ids, strings) for ids, strings in translated("pt_BR") if all(strings)]
    assert len(brazil) > 50, "pt_BR has its own words"
    assert [ids[0] for ids, strings in brazil if mismatched(ids, strings)] == []
    i18n.use("pt_BR")
    assert i18n._("Password") == "Senha" and i18n._("Calendar") == "Agenda"
    i18n.use("pt_PT")
    assert i18n._("Password") == "Palavra-passe"
    i18n.use("en")


@pytest.mark.parametrize(
    ("user", "business", "browser", "language"),
    [
        ("es", "pt-PT", "en", "es"),
        (None, "pt-BR", "es", "pt_BR"),
        (None, "pt-AO", None, "pt_PT"),
        (None, "es-MX", None, "es"),
        (None, "de-DE", "de-DE, pt;q=0.8, es;q=0.9", "es"),
        (None, None, "fr", "en"),
        (None, None, "pt-BR;q=garbage, es", "es"),
    ],
)
def test_the_language_of_a_request(user, business, browser, language) -> None:  # noqa: ANN001
    assert i18n.choose(user, business, browser) == language


async def test_an_owner_reads_the_pages_in_the_business_language_and_can_choose_another(
    web: TestClient, booking: Api, admin_settings: AdminSettings
) -> None:
    porto = await create_tenant(booking, locale="pt-PT")
    email = await add_user(admin_settings, "owner", porto)
    assert await sign_in(web, email) == 303
    dashboard = await (await web.get(f"/t/{porto}")).text()
    assert '<html lang="pt-PT">' in dashboard
    assert "esta semana" in dashboard and "Marcações hoje" in dashboard
    assert ">Agenda<" in dashboard and ">Sair<" in dashboard
    calendar = await (await web.get(f"/t/{porto}/calendar?view=week&date=2026-12-07")).text()
    assert re.search(r"semana de \d+ de dezembro de 2026", calendar), "a Portuguese date"
    assert "segunda, 7" in calendar and ">Mon 7<" not in calendar
    hours = await (await web.get(f"/t/{porto}/catalog/business")).text()
    assert "<td>Segunda-feira</td>" in hours and 'aria-label="horário de Segunda-feira"' in hours

    chosen = await web.post(
        "/language",
        data={"language": "es", "next": f"/t/{porto}/catalog", "csrf_token": csrf_of(dashboard)},
        allow_redirects=False,
    )
    assert chosen.status == 303 and chosen.headers["Location"] == f"/t/{porto}/catalog"
    catalog_page = await (await web.get(f"/t/{porto}/catalog")).text()
    assert "Servicios y equipo" in catalog_page and 'lang="es"' in catalog_page
    missing = await web.get(f"/t/{porto}/no-such-page")
    assert missing.status == 404 and "Esa página no existe." in await missing.text()

    refused = await web.post("/language", data={"language": "xx", "csrf_token": csrf_of(dashboard)})
    assert refused.status == 400 and "Ese idioma no existe aquí." in await refused.text()
    back = await web.post(
        "/language",
        data={"language": "", "next": f"/t/{porto}", "csrf_token": csrf_of(dashboard)},
    )
    assert "Marcações hoje" in await back.text(), "the business's language again"


async def test_the_sign_in_page_follows_the_browser_and_the_visitors_choice(
    web: TestClient,
) -> None:
    brazil = await (await web.get("/login", headers={"Accept-Language": "pt-BR,pt;q=0.9"})).text()
    assert "Entrar no Booka" in brazil and "Esqueceu sua senha?" in brazil
    chosen = await web.get("/login?lang=es", headers={"Accept-Language": "pt-BR"})
    assert "¿Olvidaste tu contraseña?" in await chosen.text()
    again = await (await web.get("/login", headers={"Accept-Language": "pt-BR"})).text()
    assert "¿Olvidaste tu contraseña?" in again, "the choice is kept in a cookie"
    wrong = await web.post(
        "/login",
        data={"email": "nobody@example.com", "password": "x" * 12, "csrf_token": csrf_of(again)},
    )
    assert wrong.status == 401 and "correo o contraseña incorrectos" in await wrong.text()


async def test_the_booking_services_refusals_and_statuses_are_in_the_owners_language(
    web: TestClient, booking: Api, admin_settings: AdminSettings
) -> None:
    salon = await new_tenant(booking, locale="pt-PT", cancel_cutoff_min=1440)
    await sign_in(web, await add_user(admin_settings, "owner", salon.slug))
    now = datetime.now(salon.tz)
    soon = min(  # 10:00 or 15:00, whichever comes first: always less than 24 hours away
        at
        for days in (0, 1)
        for hour in (10, 15)
        if (at := datetime.combine(now.date() + timedelta(days=days), time(hour), salon.tz)) > now
    )
    _, row = await booking.call(
        "POST",
        f"{salon.base}/bookings",
        booking_body(salon, soon.isoformat(), staff=salon.staff["Ana"], override_policy=True),
        Idempotency_Key=f"soon-{salon.slug}",
        expect=201,
    )
    address = f"/t/{salon.slug}/calendar/bookings/{row['id']}"
    detail = await (await web.get(address)).text()
    assert "confirmada" in detail and "Marcar como concluída" in detail
    refused = await web.post(f"{address}/cancel", data={"csrf_token": csrf_of(detail)})
    page = await refused.text()
    assert refused.status == 409
    assert "as marcações só podem ser desmarcadas até 24 horas antes do início" in page
    clash = await web.post(
        f"{address}/move",
        data={
            "csrf_token": csrf_of(detail),
            "date": (soon + timedelta(days=2)).date().isoformat(),
            "time": "03:00",
            "staff": str(salon.staff["Ana"]),
            "override": "on",
        },
    )
    assert (
        clash.status == 409 and "essa hora fica fora do horário de trabalho" in await clash.text()
    )


def test_a_rule_the_web_app_does_not_know_keeps_the_booking_services_words() -> None:
    i18n.use("es")
    try:
        assert booking_words.describe({"rule": "taken"}, "taken") == "esa hora ya está reservada"
        assert booking_words.describe({"rule": "min_notice", "minutes": 90}, "x") == (
            "las reservas necesitan al menos 90 minutos de antelación"
        )
        assert booking_words.describe({"rule": "new_rule"}, "a new rule") == "a new rule"
        assert booking_words.describe({"rule": "min_notice"}, "no figures") == "no figures"
        assert booking_words.status_name("no_show") == "no presentada"
    finally:
        i18n.use("en")
