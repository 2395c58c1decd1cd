"""The tenant engine's JSON API (aiohttp): tenants' templates, tone, LLM settings, quotas,
usage and FAQ for the owners' web app (`admin/`) and other operators, and the internal API
the Rasa side calls (texts, render, llm, instances, webhook secrets). `ROUTES` is the single
list of endpoints; the router and the OpenAPI document are both built from it.

Every route but health, readiness and the OpenAPI document takes the platform's internal
token (`services_common.http_api.internal_token_middleware` on `TOKEN_PATHS`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from aiohttp import web

from booka_common.templating import (
    TemplateProblem,
    catalog,
    check_off_loop,
    prepare_variables,
    render_off_loop,
    spec_for,
)
from services_common.http_api import (
    ApiError,
    NotFound,
    ValidationFailed,
    json_response,
    parse_body,
    ready_response,
)
from services_common.openapi import Route, openapi_document
from tenant_engine import store
from tenant_engine.context import context_of
from tenant_engine.gateway import LlmGateway, api_key_context
from tenant_engine.migrate import CHAIN
from tenant_engine.operations import (
    change_profile,
    check_alert_webhook,
    month_usage,
    quota_changes,
    quota_json,
    rotate_webhook_secret,
    save_template_version,
    tone_overrides,
)
from tenant_engine.schemas import (
    FaqCreate,
    LlmRequest,
    LlmSettingsChange,
    PreviewRequest,
    QuotaChange,
    RenderRequestBody,
    TemplateRevert,
    TemplateSave,
    ToneChange,
)
from tenant_engine.tone import tone_for, tone_json

log = structlog.get_logger("admin")


TOKEN_PATHS = ("/v1/", "/internal/")


class InvalidTemplate(ApiError):
    status, code = 422, "invalid_template"


async def tenant_of(request: web.Request) -> str:
    """The tenant in the path, which must exist in the booking service (404 otherwise)."""
    slug = request.match_info["tenant"]
    await context_of(request).directory.tenant(slug)
    return slug


async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    context = context_of(request)
    return ready_response(
        {
            "database": await CHAIN.readiness(context.engine),
            "booking_service": "ok" if await context.directory.ready() else "unreachable",
        }
    )


async def openapi(request: web.Request) -> web.Response:
    return json_response(
        openapi_document(
            ROUTES,
            "Booka tenant engine",
            "Tenants' templates, tone profiles, LLM settings, quotas, usage and FAQ; "
            "the internal API the Rasa side uses (texts, render, llm, instances).",
        )
    )


def template_entry(key: str, overrides: list[dict[str, Any]]) -> dict[str, Any]:
    spec = spec_for(key)
    return {
        "key": key,
        "category": spec.category,
        "description": spec.description,
        "variables": sorted(spec.allowed),
        "defaults": dict(spec.defaults),
        "sample": dict(spec.sample),
        "overrides": [version_json(row) for row in overrides],
    }


def saved_json(row: dict[str, Any]) -> dict[str, Any]:
    """A version just saved, with the text it replaced (the web app audits both)."""
    return {**version_json(row), "previous_body": row["previous_body"]}


def version_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "locale": row["locale"],
        "tone": row["tone"],
        "version": row["version"],
        "body": row["body"],
        "author": row["author"],
        "note": row["note"],
        "created_at": row["created_at"].isoformat(),
        "uses_default": row["body"] is None,
    }


async def list_templates(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    async with context_of(request).engine.connect() as conn:
        current = await store.current_templates(conn, tenant)
    entries = [
        template_entry(key, [row for (k, _, _), row in sorted(current.items()) if k == key])
        for key in catalog()
    ]
    return json_response({"templates": entries})


def known_key(request: web.Request) -> str:
    key = request.match_info["key"]
    if key not in catalog():
        raise NotFound(f"there is no template {key!r}; the templates are: {', '.join(catalog())}")
    return key


async def get_template(request: web.Request) -> web.Response:
    tenant, key = await tenant_of(request), known_key(request)
    locale, tone = request.query.get("locale", "en"), request.query.get("tone", "any")
    async with context_of(request).engine.connect() as conn:
        history = await store.template_history(conn, tenant, key, locale, tone)
    entry = template_entry(key, history[:1])
    return json_response(
        {
            **entry,
            "locale": locale,
            "tone": tone,
            "current": version_json(history[0]) if history else None,
            "versions": [version_json(row) for row in history],
        }
    )


async def save_template(request: web.Request) -> web.Response:
    tenant, key = await tenant_of(request), known_key(request)
    body, _ = await parse_body(request, TemplateSave)
    try:
        row = await save_template_version(
            context_of(request),
            tenant,
            key,
            body.locale,
            body.tone,
            body.body,
            body.author,
            body.note,
        )
    except TemplateProblem as problem:
        raise InvalidTemplate(problem.message, line=problem.line) from None
    return json_response(saved_json(row), status=201)


async def revert_template(request: web.Request) -> web.Response:
    tenant, key = await tenant_of(request), known_key(request)
    body, _ = await parse_body(request, TemplateRevert)
    engine = context_of(request).engine
    async with engine.connect() as conn:
        history = await store.template_history(conn, tenant, key, body.locale, body.tone)
    target = next((row for row in history if row["version"] == body.version), None)
    if target is None:
        raise NotFound(
            f"{key} ({body.locale}, {body.tone}) has no version {body.version}; it has "
            f"{', '.join(str(r['version']) for r in history) or 'none'}"
        )
    row = await save_template_version(
        context_of(request),
        tenant,
        key,
        body.locale,
        body.tone,
        target["body"],
        body.author,
        f"revert to version {body.version}",
    )
    return json_response(saved_json(row), status=201)


async def reset_template(request: web.Request) -> web.Response:
    tenant, key = await tenant_of(request), known_key(request)
    locale, tone = request.query.get("locale", "en"), request.query.get("tone", "any")
    row = await save_template_version(
        context_of(request),
        tenant,
        key,
        locale,
        tone,
        None,
        request.query.get("author", "api"),
        "back to the default",
    )
    return json_response(saved_json(row))


async def preview(request: web.Request) -> web.Response:
    """Render a template (saved, or the text being edited) with sample values, in the
    tenant's tone or in a tone being tried out."""
    tenant = await tenant_of(request)
    body, _ = await parse_body(request, PreviewRequest)
    if body.template not in catalog():
        raise ValidationFailed("unknown template", {"template": f"one of {', '.join(catalog())}"})
    renderer = context_of(request).renderer
    config = await renderer.config(tenant)
    spec = spec_for(body.template)
    variables = {**spec.sample, "customer_name": "Maria Silva", **body.variables}
    tone = (
        tone_for(
            config.tenant.get("vertical", ""),
            {**(config.profile or {}), **tone_overrides(body.tone)},
            config.tenant.get("locale") or "en",
        )
        if body.tone
        else config.tone
    )
    locale = body.locale or config.tenant.get("locale") or "en"
    if body.body is not None:
        try:
            await check_off_loop(body.template, body.body)
        except TemplateProblem as problem:
            raise InvalidTemplate(problem.message, line=problem.line) from None
        values = prepare_variables(variables, locale, tone, config.tenant.get("name", ""))
        return json_response(
            {"text": await render_off_loop(body.body, values, tone), "origin": "draft"}
        )
    rendered = await renderer.render(tenant, body.template, variables, locale, tone=tone)
    return json_response(
        {"text": rendered.text, "origin": rendered.origin, "version": rendered.version}
    )


async def get_tone(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    config = await context_of(request).renderer.config(tenant)
    return json_response(
        tone_json(config.tone, config.tenant.get("vertical", ""), config.tone_mode, config.profile)
    )


async def put_tone(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    body, _ = await parse_body(request, ToneChange)
    await change_profile(context_of(request), tenant, "tone_changed", tone_overrides(body))
    return await get_tone(request)


async def rotate_secret(request: web.Request) -> web.Response:
    return json_response(
        await rotate_webhook_secret(context_of(request), await tenant_of(request)), status=201
    )


async def paraphrase_all(request: web.Request) -> web.Response:
    """Make the paraphrases of every template in the tenant's tone now (after a tone change),
    instead of one by one as customers meet them."""
    tenant = await tenant_of(request)
    renderer = context_of(request).renderer
    config = await renderer.config(tenant)
    locale = config.tenant.get("locale") or "en"
    counts = {"made": 0, "refused_or_failed": 0, "hand_written": 0, "already_there": 0}
    for key in catalog():
        chosen = renderer.choose(config, key, locale, config.tone)
        if chosen.tone_specific:
            counts["hand_written"] += 1
            continue
        if await renderer.paraphrase_of(tenant, key, chosen.source, config.tone):
            counts["already_there"] += 1
            continue
        await renderer.drain()
        made = await renderer.paraphrase_of(tenant, key, chosen.source, config.tone)
        counts["made" if made else "refused_or_failed"] += 1
    return json_response(counts)


def llm_json(tenant: str, profile: dict[str, Any] | None, gateway: LlmGateway) -> dict[str, Any]:
    profile = profile or {}
    own = bool(profile.get("llm_base_url") and profile.get("llm_model"))
    provider = gateway.provider_for(tenant, profile)
    return {
        "source": "tenant" if own else "platform" if provider else "none",
        "base_url": provider.base_url if provider else None,
        "model": provider.model if provider else None,
        "api_key_set": (
            bool(profile.get("llm_api_key")) if own else bool(provider and provider.api_key)
        ),
    }


async def get_llm(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    context = context_of(request)
    async with context.engine.connect() as conn:
        profile = await store.profile(conn, tenant)
    return json_response(llm_json(tenant, profile, context.gateway))


async def put_llm(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    body, _ = await parse_body(request, LlmSettingsChange)
    context = context_of(request)
    if body.use_platform_default:
        changes: dict[str, Any] = {"llm_base_url": None, "llm_model": None, "llm_api_key": None}
    else:
        if body.base_url is None or body.model is None:
            raise ValidationFailed(
                "give base_url and model (and api_key), or use_platform_default",
                {"base_url": "required", "model": "required"},
            )
        changes = {"llm_base_url": str(body.base_url).rstrip("/"), "llm_model": body.model}
        if body.api_key is not None:
            changes["llm_api_key"] = context.settings.keyring.encrypt(
                body.api_key, api_key_context(tenant)
            )
    profile = await store.change_profile(context.engine, tenant, changes)
    log.info(
        "llm_settings_changed",
        tenant=tenant,
        source="platform" if body.use_platform_default else "tenant",
    )
    return json_response(llm_json(tenant, profile, context.gateway))


async def get_quota(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    async with context_of(request).engine.connect() as conn:
        return json_response(quota_json(await store.profile(conn, tenant)))


async def put_quota(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    body, _ = await parse_body(request, QuotaChange)
    changes = quota_changes(body)
    await check_alert_webhook(context_of(request), changes)
    return json_response(
        quota_json(await change_profile(context_of(request), tenant, "quota_changed", changes))
    )


async def usage(request: web.Request) -> web.Response:
    return json_response(
        await month_usage(context_of(request), await tenant_of(request), request.query.get("month"))
    )


async def list_faq(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    async with context_of(request).engine.connect() as conn:
        return json_response({"faq": await store.faq_list(conn, tenant)})


async def add_faq(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    body, _ = await parse_body(request, FaqCreate)
    async with context_of(request).engine.begin() as conn:
        return json_response(
            await store.faq_add(conn, tenant, body.question.strip(), body.answer.strip()),
            status=201,
        )


async def delete_faq(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    try:
        faq_id = int(request.match_info["id"])
    except ValueError:
        raise NotFound("no such FAQ entry") from None
    async with context_of(request).engine.begin() as conn:
        if not await store.faq_delete(conn, tenant, faq_id):
            raise NotFound("no such FAQ entry")
    return web.Response(status=204)


async def render(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    body, _ = await parse_body(request, RenderRequestBody)
    if body.template not in catalog():
        raise ValidationFailed("unknown template", {"template": f"one of {', '.join(catalog())}"})
    now = None
    if body.now:
        try:
            now = datetime.fromisoformat(body.now)
        except ValueError:
            raise ValidationFailed("now is not an ISO date-time", {"now": body.now}) from None
    try:
        rendered = await context_of(request).renderer.render(
            tenant, body.template, body.variables, body.locale, now
        )
    except ValueError as exc:  # e.g. a `start` that is not an ISO time
        raise ValidationFailed(
            f"a variable cannot be used: {exc}", {"variables": str(exc)[:200]}
        ) from None
    return json_response(
        {"text": rendered.text, "origin": rendered.origin, "version": rendered.version}
    )


async def texts(request: web.Request) -> web.Response:
    """The tenant's texts for the processes that render them (`booka_common.text_pack`):
    304 while the config version in `If-None-Match` is still the newest."""
    tenant = await tenant_of(request)
    renderer = context_of(request).renderer
    etag = f'"{(await renderer.config(tenant)).version}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return json_response((await renderer.pack(tenant)).to_json(), headers=headers)


async def llm(request: web.Request) -> web.Response:
    tenant = await tenant_of(request)
    body, _ = await parse_body(request, LlmRequest)
    answer = await context_of(request).gateway.complete(
        tenant,
        body.purpose,
        [m.model_dump() for m in body.messages],
        conversation=body.conversation,
        max_tokens=body.max_tokens,
        temperature=body.temperature,
        json_mode=body.json_mode,
    )
    completion = answer.completion
    return json_response(
        {
            "content": completion.content,
            "model": completion.model,
            "latency_ms": completion.latency_ms,
            "usage": {"tokens_in": completion.tokens_in, "tokens_out": completion.tokens_out},
            "cost_usd": answer.cost_micros / 1e6,
        }
    )


async def instance(request: web.Request) -> web.Response:
    context = context_of(request)
    found = await context.directory.by_instance(request.match_info["instance"])
    if found is None or found.get("suspended"):
        raise NotFound(f"no tenant uses the Evolution instance {request.match_info['instance']!r}")
    async with context.engine.connect() as conn:
        hashes = await store.webhook_secret_hashes(conn, found["slug"])
    return json_response(
        {
            "tenant": found["slug"],
            "name": found.get("name"),
            "locale": found.get("locale"),
            "timezone": found.get("timezone"),
            "webhook_secret_sha256": hashes,
        }
    )


T = "/v1/tenants/{tenant}"


ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/health", health, "Process is alive", errors=(), tag="health"),
    Route(
        "GET",
        "/api/ready",
        ready,
        "Database migrated and booking service reachable",
        errors=(503,),
        tag="health",
    ),
    Route("GET", "/openapi.json", openapi, "This document", errors=(), tag="health"),
    Route(
        "GET",
        T + "/templates",
        list_templates,
        "Every template key with the tenant's versions in force",
        tag="templates",
    ),
    Route(
        "GET",
        T + "/templates/{key}",
        get_template,
        "One template's version history",
        query=(("locale", "default en"), ("tone", "any, friendly, formal or casual")),
        tag="templates",
    ),
    Route(
        "PUT",
        T + "/templates/{key}",
        save_template,
        "Save a new version (checked: syntax, variables)",
        TemplateSave,
        201,
        (401, 404, 422),
        tag="templates",
    ),
    Route(
        "POST",
        T + "/templates/{key}/revert",
        revert_template,
        "Make an old version current again (as a new version)",
        TemplateRevert,
        201,
        (401, 404, 422),
        tag="templates",
    ),
    Route(
        "DELETE",
        T + "/templates/{key}",
        reset_template,
        "Go back to the bot's default (as a new version)",
        query=(("locale", "default en"), ("tone", "default any")),
        tag="templates",
    ),
    Route(
        "POST",
        T + "/preview",
        preview,
        "Render a saved or draft template with sample values",
        PreviewRequest,
        200,
        (401, 404, 422),
        tag="templates",
    ),
    Route("GET", T + "/tone", get_tone, "The tenant's tone profile", tag="tone"),
    Route(
        "PUT",
        T + "/tone",
        put_tone,
        "Change the tone profile",
        ToneChange,
        200,
        (401, 404, 422),
        tag="tone",
    ),
    Route(
        "POST",
        T + "/tone/paraphrase",
        paraphrase_all,
        "Make the LLM paraphrases of every template in the tone now",
        tag="tone",
    ),
    Route(
        "GET", T + "/llm", get_llm, "The tenant's LLM provider (the key is never shown)", tag="llm"
    ),
    Route(
        "PUT",
        T + "/llm",
        put_llm,
        "Set the tenant's own provider, or go back to the platform's",
        LlmSettingsChange,
        200,
        (401, 404, 422),
        tag="llm",
    ),
    Route("GET", T + "/quota", get_quota, "Plan, budgets, hard stop and alert settings", tag="llm"),
    Route(
        "PUT",
        T + "/quota",
        put_quota,
        "Change plan, budgets or alert settings",
        QuotaChange,
        200,
        (401, 404, 422),
        tag="llm",
    ),
    Route(
        "GET",
        T + "/usage",
        usage,
        "LLM use of a month by day, purpose and outcome",
        query=(("month", "YYYY-MM, default this month"),),
        tag="llm",
    ),
    Route("GET", T + "/faq", list_faq, "The owner's FAQ (the LLM answers from it)", tag="faq"),
    Route(
        "POST",
        T + "/faq",
        add_faq,
        "Add a question and its answer",
        FaqCreate,
        201,
        (401, 404, 422),
        tag="faq",
    ),
    Route("DELETE", T + "/faq/{id}", delete_faq, "Remove an FAQ entry", None, 204, tag="faq"),
    Route(
        "POST",
        "/internal/v1/tenants/{tenant}/render",
        render,
        "A customer-facing text in the tenant's template and tone",
        RenderRequestBody,
        200,
        (401, 404, 422),
        tag="internal",
    ),
    Route(
        "GET",
        "/internal/v1/tenants/{tenant}/texts",
        texts,
        "The tenant's templates in force, tone and paraphrases, to render from (ETag: the"
        " config version; 304 when If-None-Match still holds)",
        tag="internal",
    ),
    Route(
        "POST",
        "/internal/v1/tenants/{tenant}/llm",
        llm,
        "An LLM completion after the quota check; usage recorded",
        LlmRequest,
        200,
        (401, 404, 422, 429, 502, 503, 504),
        tag="internal",
    ),
    Route(
        "GET",
        "/internal/v1/instances/{instance}",
        instance,
        "The tenant behind an Evolution instance, and its webhook secrets' SHA-256",
        tag="internal",
    ),
    Route(
        "POST",
        "/internal/v1/tenants/{tenant}/webhook-secret",
        rotate_secret,
        "A new webhook secret for the tenant's instance (set in Evolution, stored hashed; shown"
        " once)",
        None,
        201,
        (401, 404, 409, 422, 503),
        tag="internal",
    ),
)
