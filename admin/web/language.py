"""The language a signed-in person reads the web app in: the menu in every page's header
posts here; the choice is kept on their account (any browser) and in a cookie (the sign-in
page before they are known). "Business default" forgets the choice (admin.i18n.choose)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import update

from admin import i18n
from admin.context import context_of
from admin.tables import users
from admin.web.kit import LANGUAGE_COOKIE, VIEWER_KEY, page, secure_cookie
from admin.web.sign_in import safe_next


async def choose_language(request: web.Request) -> web.Response:
    viewer = request[VIEWER_KEY]
    form = await request.post()
    chosen = str(form.get("language") or "")
    if chosen and chosen not in i18n.LANGUAGES:
        return page(request, "error.html", 400, message=i18n._("There is no such language here."))
    async with context_of(request).engine.begin() as conn:
        await conn.execute(
            update(users).where(users.c.id == viewer.user_id).values(language=chosen or None)
        )
    response = web.HTTPSeeOther(safe_next(str(form.get("next") or "")))
    if chosen:
        response.set_cookie(LANGUAGE_COOKIE, chosen, samesite="Lax", secure=secure_cookie(request))
    else:
        response.del_cookie(LANGUAGE_COOKIE)
    raise response


def add_routes(app: web.Application) -> None:
    app.router.add_post("/language", choose_language)
