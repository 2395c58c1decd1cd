"""Duckling's HTTP contract (exe/ExampleMain.hs in facebook/duckling), served by aiohttp.

`POST /parse` takes form fields `text` (required), `lang` or `locale` (`en_GB`), `dims` (a
JSON array of dimension names; empty or missing means all), `tz` (IANA, default
America/Los_Angeles as in Duckling), `reftime` (milliseconds since the epoch, default now)
and `latent`, and answers Duckling's JSON list of entities. `GET /` answers `quack!`.
Where Duckling would crash on bad input (a non-numeric reftime) this answers 422 instead; a
NUL byte is read as a space, and no message text reaches the log.
"""

from __future__ import annotations

import json
import os
import time
from zoneinfo import available_timezones

import duckling
import structlog
from aiohttp import web

log = structlog.get_logger("duckling_server")
DEFAULT_TZ = "America/Los_Angeles"
ZONEINFO = os.environ.get("DUCKLING_ZONEINFO", "/usr/share/zoneinfo")
DIMENSIONS = (
    "amount-of-money",
    "credit-card-number",
    "distance",
    "duration",
    "email",
    "number",
    "ordinal",
    "phone-number",
    "quantity",
    "temperature",
    "time",
    "time-grain",
    "url",
    "volume",
)


class Duckling:
    """The loaded library and time-zone database (loading takes a moment; do it once)."""

    def __init__(self, zoneinfo: str = ZONEINFO):
        duckling.init()
        self.time_zones = duckling.load_time_zones(zoneinfo)
        self.known_zones = frozenset(available_timezones())

    def parse(
        self,
        text: str,
        *,
        lang: str,
        locale: str | None,
        dims: list[str],
        tz: str,
        reftime_ms: int | None,
        latent: bool,
    ) -> list:
        language = duckling.parse_lang(lang.upper())
        default_locale = duckling.default_locale_lang(language)
        context_locale = (
            duckling.parse_locale(locale.upper(), default_locale) if locale else default_locale
        )
        seconds = int(time.time()) if reftime_ms is None else reftime_ms // 1000
        reference = duckling.parse_ref_time(self.time_zones, tz, seconds)
        wanted = duckling.parse_dimensions([d for d in dims if d in DIMENSIONS])
        # The binding hands the text to C: a NUL byte made it panic with the text's bytes in
        # the message. A space keeps every offset where it was.
        entities = duckling.parse(
            text.replace("\x00", " "), duckling.Context(reference, context_locale), wanted, latent
        )
        # The binding decodes `body` as Latin-1 ("amanhã" came back as "amanhÃ£"); its offsets
        # count characters and are right, so the body is the text they span.
        for entity in entities:
            entity["body"] = text[entity["start"] : entity["end"]]
        return entities


DUCKLING_KEY = web.AppKey("duckling", Duckling)


def _dims(raw: str | None) -> list[str]:
    """Duckling decodes `dims` leniently: anything but a JSON list of names means all."""
    try:
        value = json.loads(raw) if raw else []
    except json.JSONDecodeError:
        return []
    return [d for d in value if isinstance(d, str)] if isinstance(value, list) else []


async def parse_handler(request: web.Request) -> web.Response:
    form = await request.post()
    text = form.get("text")
    if not isinstance(text, str):
        return web.Response(status=422, reason="Bad Input", text="Need a 'text' parameter to parse")
    tz = str(form.get("tz") or DEFAULT_TZ)
    if tz not in request.app[DUCKLING_KEY].known_zones:
        return web.Response(status=422, reason="Bad Input", text=f"Unknown time zone {tz!r}")
    raw_ref = form.get("reftime")
    try:
        reftime_ms = int(str(raw_ref)) if raw_ref not in (None, "") else None
    except ValueError:
        return web.Response(
            status=422, reason="Bad Input", text="'reftime' must be milliseconds since the epoch"
        )
    try:
        entities = request.app[DUCKLING_KEY].parse(
            text,
            lang=str(form.get("lang") or "en"),
            locale=str(form["locale"]) if form.get("locale") else None,
            dims=_dims(form.get("dims") if isinstance(form.get("dims"), str) else None),
            tz=tz,
            reftime_ms=reftime_ms,
            latent=str(form.get("latent", "")).lower() == "true",
        )
    except BaseException as error:  # the Rust binding's PanicException is a BaseException
        if type(error).__name__ != "PanicException":
            raise
        log.warning("parse_panicked", chars=len(text))  # its message holds the text: not logged
        return web.Response(
            status=422, reason="Bad Input", text="Duckling could not read this text"
        )
    log.debug("parsed", entities=len(entities), chars=len(text))
    return web.json_response(entities)


async def quack(request: web.Request) -> web.Response:
    return web.Response(text="quack!")


async def targets(request: web.Request) -> web.Response:
    return web.json_response({"en": list(DIMENSIONS)})


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "service": "duckling"})


async def ready(request: web.Request) -> web.Response:
    probe = request.app[DUCKLING_KEY].parse(
        "tomorrow", lang="en", locale=None, dims=["time"], tz="UTC", reftime_ms=0, latent=False
    )
    return web.json_response(
        {"status": "ready" if probe else "not_ready"}, status=200 if probe else 503
    )


def create_app(engine: Duckling | None = None) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    app[DUCKLING_KEY] = engine or Duckling()
    app.router.add_get("/", quack)
    app.router.add_get("/targets", targets)
    app.router.add_post("/parse", parse_handler)
    app.router.add_get("/api/health", health)
    app.router.add_get("/api/ready", ready)
    return app
