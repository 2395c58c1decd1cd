"""The superadmin's wizard that opens a new business: its record in the booking service, a
starter catalogue for its vertical, its WhatsApp instance and its owner's login.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from admin import audit, auth
from admin.context import context_of
from admin.i18n import N_, _
from admin.onboarding import STARTERS, NewBusiness, OnboardingProblem, onboard, slug_for
from admin.web.kit import booking_client, page, require_superadmin

log = structlog.get_logger(__name__)

WIZARD_FIELDS = (
    "name",
    "slug",
    "vertical",
    "timezone",
    "locale",
    "country",
    "currency",
    "instance",
    "owner_email",
    "first_staff",
    "address",
    "phone",
)


REQUIRED_FIELDS = {  # the form's field -> its name in the message (translated when shown)
    "name": N_("the business name"),
    "vertical": N_("the kind of business"),
    "timezone": N_("the time zone"),
    "locale": N_("the locale"),
    "country": N_("the country"),
    "currency": N_("the currency"),
    "owner_email": N_("the owner's email"),
}


def wizard_problem(values: dict[str, str]) -> str | None:
    """What is missing or wrong in the wizard's form, in words (the booking service checks the
    rest)."""
    for name, label in REQUIRED_FIELDS.items():
        if not values.get(name):
            return _("%(field)s is needed", field=_(label))
    if values["vertical"] not in STARTERS:
        return _("the vertical must be one of %(kinds)s", kinds=", ".join(STARTERS))
    if values["vertical"] != "restaurant" and not values.get("first_staff"):
        return _(
            "a salon or clinic needs its first staff member, so that its services can be booked"
        )
    if "@" not in values["owner_email"]:
        return _("the owner's email is not an email address")
    return None


async def onboarding_page(request: web.Request) -> web.Response:
    require_superadmin(request)
    return page(
        request,
        "onboarding.html",
        values={
            "vertical": "beauty",
            "locale": "en",
            "timezone": "Europe/Lisbon",
            "country": "PT",
            "currency": "EUR",
        },
        problem=None,
        verticals=list(STARTERS),
    )


async def onboard_business(request: web.Request) -> web.Response:
    viewer = require_superadmin(request)
    form = await request.post()
    values = {name: str(form.get(name) or "").strip() for name in WIZARD_FIELDS}
    values["slug"] = values["slug"] or slug_for(values["name"])
    values["instance"] = values["instance"] or values["slug"]
    problem = wizard_problem(values)
    if problem:
        return page(
            request,
            "onboarding.html",
            422,
            values=values,
            problem=problem,
            verticals=list(STARTERS),
        )
    context = context_of(request)
    business = NewBusiness(**{k: v for k, v in values.items()})
    try:
        password = await onboard(context.engine, booking_client(request), business)
    except (OnboardingProblem, auth.UserProblem) as failure:
        log.warning("onboarding_failed", tenant=business.slug, steps_done=len(business.done))
        return page(
            request,
            "onboarding.html",
            422,
            values=values,
            problem=str(failure),
            done=business.done,
            verticals=list(STARTERS),
        )
    async with context.engine.begin() as conn:
        await audit.record(
            conn,
            viewer,
            business.slug,
            "tenant_onboarded",
            business.slug,
            None,
            {"steps": business.done},
        )
    log.info("tenant_onboarded", tenant=business.slug, vertical=business.vertical)
    return page(request, "onboarded.html", business=business, password=password)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/onboarding", onboarding_page)
    app.router.add_post("/onboarding", onboard_business)
