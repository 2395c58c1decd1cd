"""The team page: who signs in for a business, with which role, and which person in the
calendar a staff login is (staff see only that person's bookings). Owners invite people by
email — the new login gets a link to choose its own password — change a staff login's
person, give a member a WhatsApp number for test messages (admin.team_numbers), and remove
logins (their sessions end at once). Every change is audited."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import structlog
from aiohttp import web
from sqlalchemy import delete, select, update

from admin import audit, auth, i18n, team_numbers
from admin.context import context_of
from admin.i18n import _
from admin.tables import sessions, users
from admin.web.kit import VIEWER_KEY, booking_client, page, tenant_for
from services_common.mail import send_email

log = structlog.get_logger(__name__)
INVITATION_LIFETIME = timedelta(days=3)
TEAM_ROLES = ("owner", "manager", "staff")


async def team_page(
    request: web.Request, problem: str | None = None, done: str | None = None
) -> web.Response:
    tenant = await tenant_for(request)
    if not request[VIEWER_KEY].is_owner:
        raise web.HTTPForbidden(text=_("Only the owner manages who signs in."))
    context = context_of(request)
    async with context.engine.connect() as conn:
        members = [
            dict(r._mapping)
            for r in await conn.execute(
                select(
                    users.c.id, users.c.email, users.c.role, users.c.staff_id, users.c.last_login_at
                )
                .where(users.c.tenant == tenant["slug"])
                .order_by(users.c.role, users.c.email)
            )
        ]
        numbers = {
            m["id"]: m["shown"]
            for m in await team_numbers.team_numbers(conn, context.settings.keyring, tenant["slug"])
        }
    staff = await booking_client(request).staff(tenant["slug"])
    return page(
        request,
        "team.html",
        422 if problem else 200,
        tenant=tenant,
        members=members,
        staff=staff,
        roles=TEAM_ROLES,
        names={p["id"]: p["name"] for p in staff},
        numbers=numbers,
        problem=problem,
        done=done,
    )


async def change_team(request: web.Request) -> web.Response:
    tenant = await tenant_for(request)
    viewer = request[VIEWER_KEY]
    if not viewer.is_owner:
        raise web.HTTPForbidden(text=_("Only the owner manages who signs in."))
    form = await request.post()
    what = request.match_info["what"]
    if what == "invite":
        return await invite(request, tenant, form)
    member = await member_of(request, tenant["slug"], str(form.get("user_id") or ""))
    raw = str(form.get("whatsapp") or "").strip()
    number = team_numbers.whatsapp_number(raw) if raw else None
    if what == "whatsapp" and raw and number is None:
        return await team_page(
            request,
            problem=_("give the WhatsApp number with its country code, e.g. +351 912 345 678"),
        )
    context = context_of(request)
    async with context.engine.begin() as conn:
        if what == "remove":
            if member["id"] == viewer.user_id:
                return await team_page(request, problem=_("you cannot remove your own login"))
            await conn.execute(delete(sessions).where(sessions.c.user_id == member["id"]))
            await conn.execute(delete(users).where(users.c.id == member["id"]))
            await audit.record(
                conn,
                viewer,
                tenant["slug"],
                "login_removed",
                member["email"],
                {"role": member["role"]},
                None,
            )
        elif what == "whatsapp":
            await team_numbers.set_number(conn, context.settings.keyring, member["id"], number)
            await audit.record(
                conn,
                viewer,
                tenant["slug"],
                "login_whatsapp_set",
                member["email"],
                None,
                {"whatsapp": team_numbers.masked(number) if number else None},
            )
        elif what == "person":
            person = (
                int(str(form["staff_id"])) if str(form.get("staff_id") or "").isdigit() else None
            )
            await conn.execute(
                update(users).where(users.c.id == member["id"]).values(staff_id=person)
            )
            await audit.record(
                conn,
                viewer,
                tenant["slug"],
                "login_linked",
                member["email"],
                {"staff_id": member["staff_id"]},
                {"staff_id": person},
            )
        else:
            raise web.HTTPNotFound()
    raise web.HTTPSeeOther(f"/t/{quote(tenant['slug'])}/team")


async def member_of(request: web.Request, tenant: str, raw_id: str) -> dict[str, Any]:
    """A login of this business (404 for another business's)."""
    if not raw_id.isdigit():
        raise web.HTTPNotFound()
    async with context_of(request).engine.connect() as conn:
        row = (
            await conn.execute(
                select(users).where(users.c.id == int(raw_id), users.c.tenant == tenant)
            )
        ).first()
    if row is None:
        raise web.HTTPNotFound()
    return dict(row._mapping)


async def invite(request: web.Request, tenant: dict[str, Any], form: Any) -> web.Response:
    """A new login with an unguessable password nobody knows, and an emailed link to choose one."""
    context, viewer = context_of(request), request[VIEWER_KEY]
    email, role = str(form.get("email") or "").strip().lower(), str(form.get("role") or "")
    if role not in TEAM_ROLES:
        return await team_page(
            request, problem=_("the role must be one of %(roles)s", roles=", ".join(TEAM_ROLES))
        )
    person = (
        int(str(form["staff_id"]))
        if role == "staff" and str(form.get("staff_id") or "").isdigit()
        else None
    )
    try:
        await auth.create_user(
            context.engine, email, secrets.token_urlsafe(24), role, tenant["slug"], staff_id=person
        )
    except auth.UserProblem as problem:
        return await team_page(request, problem=str(problem))
    token = await auth.start_password_reset(context.engine, email, INVITATION_LIFETIME)
    link = f"{context.settings.public_url}/password-reset/{token}"
    with i18n.speaking(i18n.language_of_locale(tenant.get("locale")) or i18n.current()):
        # in the language the new login's pages will be in: the business's (it has no own yet)
        subject = _("You can now sign in to %(business)s on Booka", business=tenant["name"])
        body = _(
            "%(inviter)s invited you to %(business)s on Booka as %(role)s.\n\n"
            "Choose your password here within three days:\n%(link)s\n",
            inviter=viewer.email,
            business=tenant["name"],
            role=_(role),
            link=link,
        )
    await send_email(context.settings.smtp, email, subject, body, "invitation")
    async with context.engine.begin() as conn:
        await audit.record(
            conn,
            viewer,
            tenant["slug"],
            "login_invited",
            email,
            None,
            {"role": role, "staff_id": person},
        )
    log.info("login_invited", tenant=tenant["slug"], role=role)
    return await team_page(request, done=_("Invitation sent to %(email)s.", email=email))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/t/{tenant}/team", team_page)
    app.router.add_post("/t/{tenant}/team/{what}", change_team)
