"""Customer-facing texts: the catalog of template keys, checking owners' templates, and
rendering them with locale-aware dates, times and prices.

Owners' templates are untrusted text, so they run in Jinja2's sandbox and may use only the
variables their key declares (checked when saved, with the line and the name that is
wrong). The admin app renders tenants' own templates with this module; the action server
renders the defaults with it too when the admin app cannot be reached, so both read the
same catalog (`message_templates.yml`) and format values the same way (babel).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

import yaml
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.numbers import format_currency
from jinja2 import TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

CATALOG_FILE = Path(__file__).with_name("message_templates.yml")
TONES = ("friendly", "formal", "casual")
ADDRESS_FORMS = ("first_name", "full_name", "none")
COMMON_VARIABLES = ("business_name", "greeting", "sign_off", "customer_name")
DERIVED_FROM_START = ("date", "time", "when")
MAX_TEMPLATE_CHARS = 4000
# Pictographs, dingbats, flags, variation selectors and joiners: what "emoji off" removes.
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\u2300-\u23FF\uFE0F\u200D\U0001F1E6-\U0001F1FF]")

MAX_RENDERED_CHARS = 8000


class TemplateSandbox(SandboxedEnvironment):
    """Jinja2's sandbox (no attribute tricks, no unsafe calls, bounded `range`), plus a bound
    on `*` and `**`, so that `{{ "x" * 10**9 }}` in an owner's template cannot eat the memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:  # noqa: ANN001
        if operator == "**" or any(isinstance(side, (str, list, tuple)) for side in (left, right)):
            size = max((len(side) for side in (left, right) if isinstance(side, (str, list, tuple))), default=1)
            count = next((side for side in (left, right) if isinstance(side, int)), 1)
            if operator == "**" or size * abs(count) > MAX_RENDERED_CHARS:
                raise TemplateProblem("the template builds a value that is too large")
        return super().call_binop(context, operator, left, right)


ENVIRONMENT = TemplateSandbox(autoescape=False, lstrip_blocks=True)


class TemplateProblem(ValueError):
    """A template that cannot be saved; `line` points at the problem when it is known."""

    def __init__(self, message: str, line: Optional[int] = None):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class TemplateSpec:
    """One template key of the catalog."""

    key: str
    category: str
    description: str
    variables: tuple[str, ...]
    sample: Mapping[str, Any]
    defaults: Mapping[str, str]  # tone -> text; "friendly" always present

    @property
    def allowed(self) -> frozenset[str]:
        return frozenset(self.variables) | frozenset(COMMON_VARIABLES)

    def default_text(self, tone: str) -> str:
        return self.defaults.get(tone) or self.defaults["friendly"]

    def has_variant(self, tone: str) -> bool:
        """Whether a hand-written default exists for `tone` (the friendly text is the base, not a variant)."""
        return tone != "friendly" and tone in self.defaults


@lru_cache(maxsize=1)
def catalog() -> dict[str, TemplateSpec]:
    """Every template key the bot uses, read once from `message_templates.yml`."""
    raw = yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))
    specs = {}
    for key, entry in raw.items():
        defaults = {"friendly": entry["text"], **{tone: entry[tone] for tone in ("formal", "casual") if entry.get(tone)}}
        specs[key] = TemplateSpec(key, entry["category"], entry["description"], tuple(entry.get("variables") or ()),
                                  entry.get("sample") or {}, defaults)
    return specs


def spec_for(key: str) -> TemplateSpec:
    """The catalog entry for `key`; KeyError names the keys that exist."""
    try:
        return catalog()[key]
    except KeyError:
        raise KeyError(f"there is no template {key!r}; the templates are: {', '.join(sorted(catalog()))}") from None


def check_template(key: str, source: str) -> None:
    """Raise `TemplateProblem` unless `source` is a valid template for `key`."""
    spec = spec_for(key)
    if not source.strip():
        raise TemplateProblem("the template is empty")
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateProblem(f"the template is {len(source)} characters long; the most is {MAX_TEMPLATE_CHARS}")
    try:
        parsed = ENVIRONMENT.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"syntax error on line {exc.lineno}: {exc.message}", exc.lineno) from None
    unknown = sorted(meta.find_undeclared_variables(parsed) - spec.allowed)
    if unknown:
        name = unknown[0]
        line = next((n for n, text in enumerate(source.splitlines(), start=1) if re.search(rf"\b{re.escape(name)}\b", text)), None)
        raise TemplateProblem(
            f"unknown variable {{{{ {name} }}}}{f' on line {line}' if line else ''}; "
            f"this template may use: {', '.join(sorted(spec.allowed))}",
            line,
        )
    try:  # a trial run with the sample values catches what only shows when rendering
        render_source(source, prepare_variables(spec.sample, "en", ToneSettings(), "Sample Business"), ToneSettings())
    except TemplateProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of an owner's template is reported, not raised
        raise TemplateProblem(f"the template fails when rendered with sample values: {exc}") from None


def placeholders(source: str) -> frozenset[str]:
    """The variable names a template uses (to check that a paraphrase kept them all)."""
    try:
        return frozenset(meta.find_undeclared_variables(ENVIRONMENT.parse(source)))
    except TemplateSyntaxError:
        return frozenset()


@dataclass(frozen=True)
class ToneSettings:
    """How a business talks: a preset plus the owner's own touches."""

    preset: str = "friendly"
    emoji: bool = True
    greeting: str = "Hi"
    sign_off: str = ""
    address: str = "first_name"

    def addressed(self, name: Optional[str]) -> str:
        if not name or self.address == "none":
            return ""
        return name.split()[0] if self.address == "first_name" else name


def babel_locale(locale: str) -> Locale:
    """A babel Locale for "en-NZ", "pt_PT" or "en"; English when the tag is unknown."""
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en")


def formatting_locale(locale: str, language: str) -> str:
    """The locale to format values in for a text written in `language`: the tenant's own
    when the languages agree, else that language with the tenant's region ("en_PT" for an
    English text of a Portuguese business), so dates never switch language mid-sentence."""
    tenant = babel_locale(locale)
    if tenant.language == language:
        return str(tenant)
    if tenant.territory:
        try:
            return str(Locale.parse(f"{language}_{tenant.territory}"))
        except (UnknownLocaleError, ValueError):
            pass
    return language


def plain_spaces(text: str) -> str:
    """CLDR puts narrow and no-break spaces in "5:00\u202fPM" and "35,00\u00a0€"; some phones
    show the narrow one as a box, so messages use ordinary spaces."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def locale_time(moment: datetime, locale: str) -> str:
    """The locale's short clock time: "17:00" in Europe, "5:00 PM" in the US."""
    return plain_spaces(format_time(moment, "short", locale=babel_locale(locale)))


def locale_date(moment: datetime, locale: str) -> str:
    """A short date with the weekday, in the locale's words and order: "Fri 4 Dec"."""
    return plain_spaces(format_date(moment.date(), "EEE d MMM", locale=babel_locale(locale)))


def locale_day(moment: datetime, locale: str, now: Optional[datetime] = None) -> str:
    """"today" / "tomorrow" (English locales) or the date."""
    if now is not None and babel_locale(locale).language == "en":
        delta = (moment.date() - now.astimezone(moment.tzinfo).date()).days
        if delta in (0, 1):
            return ("today", "tomorrow")[delta]
    return locale_date(moment, locale)


def locale_when(moment: datetime, locale: str, now: Optional[datetime] = None) -> str:
    return f"{locale_day(moment, locale, now)} at {locale_time(moment, locale)}"


def locale_price(price: Optional[Mapping[str, Any]], locale: str) -> str:
    """"€35.00" / "35,00 €" for the locale; "free" for zero; "" without a price."""
    if not price or price.get("amount") in (None, ""):
        return ""
    try:
        amount = Decimal(str(price["amount"]))
    except InvalidOperation:
        return ""
    if amount == 0:
        return "free"
    return plain_spaces(format_currency(amount, price.get("currency") or "EUR", locale=babel_locale(locale)))


def prepare_variables(variables: Mapping[str, Any], locale: str, tone: ToneSettings,
                      business_name: str = "", now: Optional[datetime] = None) -> dict[str, Any]:
    """The values a template sees: dates, times and prices formatted for the locale, the
    customer's name as the tone addresses them, and the tone's greeting and sign-off."""
    values: dict[str, Any] = {"business_name": business_name, "greeting": tone.greeting, "sign_off": tone.sign_off,
                              **{k: v for k, v in variables.items() if v is not None}}
    values["customer_name"] = tone.addressed(variables.get("customer_name"))
    start = variables.get("start")
    if isinstance(start, str) and start:
        moment = datetime.fromisoformat(start)
        values.update(date=locale_date(moment, locale), time=locale_time(moment, locale), when=locale_when(moment, locale, now))
    if isinstance(variables.get("price"), Mapping):
        values["price"] = locale_price(variables["price"], locale)
    return values


def render_source(source: str, values: Mapping[str, Any], tone: ToneSettings) -> str:
    """Render a checked template; emoji are removed when the tone says so."""
    text = ENVIRONMENT.from_string(source).render(**values).strip()
    if len(text) > MAX_RENDERED_CHARS:
        raise TemplateProblem(f"the rendered text is longer than {MAX_RENDERED_CHARS} characters")
    if not tone.emoji:
        text = re.sub(r"[ \t]{2,}", " ", EMOJI.sub("", text))
        text = "\n".join(line.strip() for line in text.splitlines())
    return text


@dataclass
class RenderRequest:
    """What a caller asks to render: a key, the raw variables, the locale, the tone."""

    key: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    locale: str = "en"
    tone: ToneSettings = field(default_factory=ToneSettings)
    business_name: str = ""
    now: Optional[datetime] = None


DEFAULT_LANGUAGE = "en"  # the language of the texts in message_templates.yml


def render_default(request: RenderRequest) -> str:
    """The bot's own text for a key in the requested tone (no tenant template)."""
    spec = spec_for(request.key)
    locale = formatting_locale(request.locale, DEFAULT_LANGUAGE)
    values = prepare_variables(request.variables, locale, request.tone, request.business_name, request.now)
    return render_source(spec.default_text(request.tone.preset), values, request.tone)
