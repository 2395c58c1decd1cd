"""Customer-facing texts: the catalog of template keys, checking owners' templates, and
rendering them with locale-aware dates, times and prices.

Owners' templates are untrusted text, so they run in Jinja2's sandbox and may use only the
variables their key declares (checked when saved, with the line and the name that is
wrong). The tenant engine renders tenants' own templates with this module; the action server
renders the defaults with it too when the tenant engine cannot be reached, so both read the
same catalog (`message_templates.yml`) and format values the same way (babel).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache, wraps
from pathlib import Path
from typing import Any

import yaml
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time
from babel.numbers import format_currency
from jinja2 import Environment, Template, TemplateSyntaxError, meta, nodes
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer

CATALOG_FILE = Path(__file__).with_name("message_templates.yml")
TEXTS_DIR = Path(__file__).with_name("texts")  # the same texts in other languages
TEXT_SETS = ("pt-PT", "pt-BR", "es")
DEFAULT_LANGUAGE = "en"  # the language of the texts in message_templates.yml
TONES = ("friendly", "formal", "casual")
ADDRESS_FORMS = ("first_name", "full_name", "none")
COMMON_VARIABLES = ("business_name", "greeting", "sign_off", "customer_name")
DERIVED_FROM_START = ("date", "time", "when")
MAX_TEMPLATE_CHARS = 4000
# Pictographs, dingbats, flags, variation selectors and joiners: what "emoji off" removes.
EMOJI = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\ufe0f\u200d\U0001f1e6-\U0001f1ff]"
)

MAX_RENDERED_CHARS = 8000  # the longest text, and the largest value built on the way to it
MAX_RANGE = 1000  # the most items one range() may give
MAX_STEPS = 20_000  # loop iterations, calls, filters and operators in one render
MAX_RENDER_S = 0.25  # wall time of one render
SIZE_FILTERS = frozenset({"center", "indent", "wordwrap", "truncate", "batch", "slice"})
SIZE_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
# widths in "%2000000s", "{:>2000000}"; "%*s" and "{:{}}" take the width from an argument
FORMAT_WIDTH = re.compile(r"%[-+ #0]*(\d+|\*)|\{[^{}]*:[^{}]*?(\d+|\{)")


class TooMuchWork(Exception):
    """Raised inside a render that went over one of its limits (turned into TemplateProblem)."""


@dataclass
class RenderBudget:
    """What one render may still spend; kept in a context variable by `render_source`."""

    steps: int = MAX_STEPS
    deadline: float = field(default_factory=lambda: time.monotonic() + MAX_RENDER_S)

    def spend(self, steps: int = 1) -> None:
        self.steps -= steps
        if self.steps < 0:
            raise TooMuchWork("the template loops or calls too often")
        if time.monotonic() > self.deadline:
            raise TooMuchWork(f"the template takes longer than {MAX_RENDER_S:g} s to render")


BUDGET: ContextVar[RenderBudget | None] = ContextVar("template_budget", default=None)


def spend(steps: int = 1) -> None:
    budget = BUDGET.get()
    if budget is not None:
        budget.spend(steps)


def sized(value: Any) -> Any:
    """`value`, unless it is a string or sequence longer than any text may be."""
    if isinstance(value, (str, list, tuple, dict)) and len(value) > MAX_RENDERED_CHARS:
        raise TooMuchWork("the template builds a value that is too large")
    return value


def check_size_arguments(args: tuple, kwargs: Mapping[str, Any]) -> None:
    if any(isinstance(a, int) and abs(a) > MAX_RENDERED_CHARS for a in (*args, *kwargs.values())):
        raise TooMuchWork(f"a size larger than {MAX_RENDERED_CHARS} was asked for")


def check_format_string(fmt: Any) -> None:
    if not isinstance(fmt, str):
        return
    for match in FORMAT_WIDTH.finditer(fmt):
        width = match.group(1) or match.group(2)
        if not width.isdigit() or int(width) > MAX_RENDERED_CHARS:
            raise TooMuchWork("the template formats a value wider than a text may be")


def check_replace(text: Any, old: Any, new: Any, count: Any = None) -> None:
    """`replace` can multiply a text's length; work out the result's length first."""
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        found = text.count(old) if old else len(text) + 1
        if isinstance(count, int) and count >= 0:
            found = min(found, count)
        sized(" " * max(0, min(MAX_RENDERED_CHARS + 1, len(text) + found * (len(new) - len(old)))))


def check_join(separator: Any, items: Any) -> None:
    if isinstance(items, (list, tuple, str)):
        spend(len(items))
        total = len(str(separator)) * max(len(items) - 1, 0) + sum(len(str(item)) for item in items)
        if total > MAX_RENDERED_CHARS:
            raise TooMuchWork("the template builds a value that is too large")


def bounded_filter(name: str, function: Callable) -> Callable:
    """A built-in filter with the sandbox's limits applied before and after it runs."""

    @wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        spend()
        values = [a for a in args if not isinstance(a, (Environment, Context, EvalContext))]
        if name in SIZE_FILTERS:
            check_size_arguments(tuple(values[1:]), kwargs)
        if name == "indent" and values:
            lines = str(values[0]).count("\n") + 1
            width = kwargs.get("width", values[1] if len(values) > 1 else 4)
            sized(
                " "
                * min(
                    MAX_RENDERED_CHARS + 1,
                    len(str(values[0])) + lines * (len(width) if isinstance(width, str) else 0),
                )
            )
        if name == "replace" and len(values) >= 3:
            check_replace(*values[:4])
        if name == "format" and values:
            check_format_string(values[0])
        if name == "join" and values:
            check_join(
                values[1] if len(values) > 1 else kwargs.get("d", ""),
                values[0] if isinstance(values[0], (list, tuple, str)) else list(values[0]),
            )
        return sized(function(*args, **kwargs))

    return bounded


class BoundedLoopsAndJoins(NodeTransformer):
    """Every `{% for %}` iterates through `bounded_iter` (one step per item), and every `~`
    goes through `checked_concat`, which Jinja's sandbox would otherwise not see."""

    def visit_For(self, node: nodes.For) -> nodes.For:
        self.generic_visit(node)
        node.iter = nodes.Call(
            nodes.EnvironmentAttribute("bounded_iter"), [node.iter], [], None, None
        )
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Call:
        self.generic_visit(node)
        return nodes.Call(
            nodes.EnvironmentAttribute("checked_concat"), list(node.nodes), [], None, None
        )


class TemplateSandbox(SandboxedEnvironment):
    """Jinja2's sandbox (no attribute tricks, no unsafe calls) with limits on what an owner's
    template may build and do, so that no template can eat the memory or the CPU:
    `range()` of at most MAX_RANGE items; every value (strings from `*`, `+`, `~`, `%`,
    filters and methods) at most MAX_RENDERED_CHARS long, with size arguments and format
    widths checked before the work is done; at most MAX_STEPS loop iterations, calls and
    operators, and MAX_RENDER_S of time, per render; the output counted while it is made."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = self.bounded_range
        self.filters = {name: bounded_filter(name, f) for name, f in self.filters.items()}

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = BoundedLoopsAndJoins().visit(super()._parse(source, name, filename))
        tree.set_environment(self)
        return tree

    @staticmethod
    def bounded_range(*args: int) -> range:
        spend()
        numbers = range(*args)
        if len(numbers) > MAX_RANGE:
            raise TooMuchWork(f"range() may give at most {MAX_RANGE} numbers")
        return numbers

    @staticmethod
    def bounded_iter(iterable: Any) -> Iterator[Any]:
        for item in iterable:
            spend()
            yield item

    @staticmethod
    def checked_concat(*parts: Any) -> str:
        spend()
        return sized("".join(str(part) for part in parts))

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        spend()
        sides = (left, right)
        if operator == "**" and any(isinstance(side, int) and abs(side) > 64 for side in sides):
            raise TooMuchWork("the template builds a number that is too large")
        if operator == "*" and any(isinstance(side, (str, list, tuple)) for side in sides):
            size = max(len(side) for side in sides if isinstance(side, (str, list, tuple)))
            count = next((side for side in sides if isinstance(side, int)), 1)
            if size * abs(count) > MAX_RENDERED_CHARS:
                raise TooMuchWork("the template builds a value that is too large")
        if operator == "+" and all(isinstance(side, (str, list, tuple)) for side in sides):
            if len(left) + len(right) > MAX_RENDERED_CHARS:
                raise TooMuchWork("the template builds a value that is too large")
        if operator == "%" and isinstance(left, str):
            check_format_string(left)
        return sized(super().call_binop(context, operator, left, right))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """`"...".format(...)`: Jinja wraps it when the attribute is read; check the widths too."""
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None

        def bounded(*args: Any, **kwargs: Any) -> str:
            check_format_string(value.__self__)
            check_size_arguments(args, kwargs)
            return wrapper(*args, **kwargs)

        return bounded

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's signature
        if __obj in (__self.bounded_iter, __self.checked_concat):
            return __context.call(__obj, *args, **kwargs)
        spend()
        bound_to, method = getattr(__obj, "__self__", None), getattr(__obj, "__name__", "")
        if isinstance(bound_to, str):
            if method in SIZE_METHODS:
                check_size_arguments(args, kwargs)
            elif method == "replace":
                check_replace(bound_to, *args[:3])
            elif method == "join" and args:
                check_join(
                    bound_to,
                    list(args[0]) if not isinstance(args[0], (list, tuple, str)) else args[0],
                )
        return sized(super().call(__context, __obj, *args, **kwargs))


ENVIRONMENT = TemplateSandbox(autoescape=False, lstrip_blocks=True)


class TemplateProblem(ValueError):
    """A template that cannot be saved; `line` points at the problem when it is known."""

    def __init__(self, message: str, line: int | None = None):
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
    # text set ("pt-PT", "pt-BR", "es") -> tone -> text, from texts/<set>.yml
    translations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def allowed(self) -> frozenset[str]:
        return frozenset(self.variables) | frozenset(COMMON_VARIABLES)

    def texts_for(self, locale: str = DEFAULT_LANGUAGE) -> Mapping[str, str]:
        """The default texts (tone -> text) that speak to `locale`; English when the key has
        none in that language."""
        return self.translations.get(text_set(locale)) or self.defaults

    def default_text(self, tone: str, locale: str = DEFAULT_LANGUAGE) -> str:
        texts = self.texts_for(locale)
        return texts.get(tone) or texts["friendly"]

    def default_language(self, locale: str = DEFAULT_LANGUAGE) -> str:
        """The language the default text for `locale` is written in."""
        found = text_set(locale) if text_set(locale) in self.translations else DEFAULT_LANGUAGE
        return found.split("-")[0]

    def has_variant(self, tone: str, locale: str = DEFAULT_LANGUAGE) -> bool:
        """Whether a hand-written default exists for `tone` (the friendly text is the base, not a
        variant)."""
        return tone != "friendly" and tone in self.texts_for(locale)


@lru_cache(maxsize=1)
def catalog() -> dict[str, TemplateSpec]:
    """Every template key the bot uses, read once from `message_templates.yml`."""
    raw = yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))
    translated = {
        name: yaml.safe_load((TEXTS_DIR / f"{name}.yml").read_text(encoding="utf-8"))
        for name in TEXT_SETS
    }
    specs = {}
    for key, entry in raw.items():
        specs[key] = TemplateSpec(
            key,
            entry["category"],
            entry["description"],
            tuple(entry.get("variables") or ()),
            entry.get("sample") or {},
            tone_texts(entry),
            {name: tone_texts(texts[key]) for name, texts in translated.items() if key in texts},
        )
    return specs


def tone_texts(entry: Mapping[str, Any]) -> dict[str, str]:
    """tone -> text of one catalog entry (`text` is the friendly tone)."""
    return {
        "friendly": entry["text"],
        **{tone: entry[tone] for tone in ("formal", "casual") if entry.get(tone)},
    }


def text_set(locale: str) -> str:
    """Which set of the bot's default texts speaks to `locale`: Brazilian Portuguese for
    Brazil, European Portuguese for any other Portuguese, one Spanish for every Spanish,
    else English."""
    tag = babel_locale(locale)
    if tag.language == "pt":
        return "pt-BR" if tag.territory == "BR" else "pt-PT"
    return "es" if tag.language == "es" else DEFAULT_LANGUAGE


def spec_for(key: str) -> TemplateSpec:
    """The catalog entry for `key`; KeyError names the keys that exist."""
    try:
        return catalog()[key]
    except KeyError:
        raise KeyError(
            f"there is no template {key!r}; the templates are: {', '.join(sorted(catalog()))}"
        ) from None


def check_template(key: str, source: str) -> None:
    """Raise `TemplateProblem` unless `source` is a valid template for `key`."""
    spec = spec_for(key)
    if not source.strip():
        raise TemplateProblem("the template is empty")
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateProblem(
            f"the template is {len(source)} characters long; the most is {MAX_TEMPLATE_CHARS}"
        )
    try:
        parsed = ENVIRONMENT.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(
            f"syntax error on line {exc.lineno}: {exc.message}", exc.lineno
        ) from None
    unknown = sorted(meta.find_undeclared_variables(parsed) - spec.allowed)
    if unknown:
        name = unknown[0]
        line = next(
            (
                n
                for n, text in enumerate(source.splitlines(), start=1)
                if re.search(rf"\b{re.escape(name)}\b", text)
            ),
            None,
        )
        raise TemplateProblem(
            f"unknown variable {{{{ {name} }}}}{f' on line {line}' if line else ''}; "
            f"this template may use: {', '.join(sorted(spec.allowed))}",
            line,
        )
    try:  # a trial run with the sample values catches what only shows when rendering
        render_source(
            source,
            prepare_variables(spec.sample, "en", ToneSettings(), "Sample Business"),
            ToneSettings(),
        )
    except TemplateProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of an owner's template is reported, not raised
        raise TemplateProblem(
            f"the template fails when rendered with sample values: {exc}"
        ) from None


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

    def addressed(self, name: str | None) -> str:
        if not name or self.address == "none":
            return ""
        return name.split()[0] if self.address == "first_name" else name

    def speaking(self, locale: str, business_locale: str) -> ToneSettings:
        """This tone for a conversation in `locale`. The owner's greeting and sign-off are
        written in the business's language; in another language the preset's greeting in
        that language stands in, and there is no sign-off."""
        if text_set(locale) == text_set(business_locale):
            return self
        return replace(self, greeting=preset_greeting(self.preset, locale), sign_off="")


# Each tone preset's greeting in each language the bot speaks.
PRESET_GREETINGS = {
    "en": {"friendly": "Hi", "formal": "Good day", "casual": "Hey"},
    "pt-PT": {"friendly": "Olá", "formal": "Olá", "casual": "Olá"},
    "pt-BR": {"friendly": "Oi", "formal": "Olá", "casual": "E aí"},
    "es": {"friendly": "¡Hola", "formal": "Hola", "casual": "¡Hola"},
}


def preset_greeting(preset: str, locale: str) -> str:
    greetings = PRESET_GREETINGS[text_set(locale)]
    return greetings.get(preset, greetings["friendly"])


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
    """The locale's short clock time: "17:00" in Europe, "5:00 PM" in the US; always 24-hour
    in Portuguese and Spanish, as businesses there write it ("às 17:00", "a las 17:00")."""
    tag = babel_locale(locale)
    pattern = "short" if tag.language == "en" else "HH:mm"
    return plain_spaces(format_time(moment, pattern, locale=tag))


def locale_date(moment: datetime, locale: str) -> str:
    """A short date with the weekday, in the locale's words and order: "Fri 4 Dec",
    "sexta, 4 de dezembro", "vie, 4 de diciembre"."""
    tag = babel_locale(locale)
    if tag.language == "en":
        return plain_spaces(format_date(moment.date(), "EEE d MMM", locale=tag))
    return plain_spaces(format_skeleton("MMMMEd", moment.date(), locale=tag))


# The words a text puts around a date and a time, per language (other languages: English).
DAY_WORDS = {"en": ("today", "tomorrow"), "pt": ("hoje", "amanhã"), "es": ("hoy", "mañana")}
AT_WORDS = {"en": "at", "pt": "às", "es": "a las"}
FREE_WORDS = {"en": "free", "pt": "grátis", "es": "gratis"}


def language_of(locale: str) -> str:
    """The language of a locale, among those the bot speaks ("en" for any other)."""
    language = babel_locale(locale).language
    return language if language in DAY_WORDS else DEFAULT_LANGUAGE


def locale_day(moment: datetime, locale: str, now: datetime | None = None) -> str:
    """ "today" / "tomorrow" in the locale's language, or the date."""
    if now is not None:
        delta = (moment.date() - now.astimezone(moment.tzinfo).date()).days
        if delta in (0, 1):
            return DAY_WORDS[language_of(locale)][delta]
    return locale_date(moment, locale)


def locale_when(moment: datetime, locale: str, now: datetime | None = None) -> str:
    """ "tomorrow at 17:00", "amanhã às 17:00", "mañana a las 17:00"."""
    at = AT_WORDS[language_of(locale)]
    return f"{locale_day(moment, locale, now)} {at} {locale_time(moment, locale)}"


def locale_price(price: Mapping[str, Any] | None, locale: str) -> str:
    """ "€35.00" / "35,00 €" for the locale; "free" for zero; "" without a price."""
    if not price or price.get("amount") in (None, ""):
        return ""
    try:
        amount = Decimal(str(price["amount"]))
    except InvalidOperation:
        return ""
    if amount == 0:
        return FREE_WORDS[language_of(locale)]
    return plain_spaces(
        format_currency(amount, price.get("currency") or "EUR", locale=babel_locale(locale))
    )


def prepare_variables(
    variables: Mapping[str, Any],
    locale: str,
    tone: ToneSettings,
    business_name: str = "",
    now: datetime | None = None,
) -> dict[str, Any]:
    """The values a template sees: dates, times and prices formatted for the locale, the
    customer's name as the tone addresses them, and the tone's greeting and sign-off."""
    values: dict[str, Any] = {
        "business_name": business_name,
        "greeting": tone.greeting,
        "sign_off": tone.sign_off,
        **{k: v for k, v in variables.items() if v is not None},
    }
    values["customer_name"] = tone.addressed(variables.get("customer_name"))
    start = variables.get("start")
    if isinstance(start, str) and start:
        moment = datetime.fromisoformat(start)
        values.update(
            date=locale_date(moment, locale),
            time=locale_time(moment, locale),
            when=locale_when(moment, locale, now),
        )
    if isinstance(variables.get("price"), Mapping):
        values["price"] = locale_price(variables["price"], locale)
    return values


@lru_cache(maxsize=4096)
def compiled(source: str) -> Template:
    """The sandboxed template of a source, compiled once: compiling is about 4 ms, almost all
    of a render (the generated code is reused; rendering it is a few hundredths of that)."""
    return ENVIRONMENT.from_string(source)


def render_source(source: str, values: Mapping[str, Any], tone: ToneSettings) -> str:
    """Render a checked template within the sandbox's limits (TemplateProblem says which
    one it hit); emoji are removed when the tone says so. The output is counted while it
    is produced, so a template cannot build a long text before the length is checked."""
    budget = BUDGET.set(RenderBudget())
    try:
        chunks, length = [], 0
        for chunk in compiled(source).generate(**values):
            length += len(chunk)
            if length > MAX_RENDERED_CHARS:
                raise TemplateProblem(
                    f"the rendered text is longer than {MAX_RENDERED_CHARS} characters"
                )
            chunks.append(chunk)
    except TooMuchWork as limit:
        raise TemplateProblem(str(limit)) from None
    except RecursionError:
        raise TemplateProblem("the template calls itself without end") from None
    finally:
        BUDGET.reset(budget)
    text = "".join(chunks).strip()
    if not tone.emoji:
        text = re.sub(r"[ \t]{2,}", " ", EMOJI.sub("", text))
        text = "\n".join(line.strip() for line in text.splitlines())
    return text


async def render_off_loop(source: str, values: Mapping[str, Any], tone: ToneSettings) -> str:
    """`render_source` in a worker thread: an owner's template, even one that spends its
    whole budget, never holds up the event loop that serves every tenant's texts."""
    return await asyncio.to_thread(render_source, source, values, tone)


async def check_off_loop(key: str, source: str) -> None:
    """`check_template` (which renders a trial) in a worker thread."""
    await asyncio.to_thread(check_template, key, source)


@dataclass
class RenderRequest:
    """What a caller asks to render: a key, the raw variables, the locale, the tone."""

    key: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    locale: str = "en"
    tone: ToneSettings = field(default_factory=ToneSettings)
    business_name: str = ""
    now: datetime | None = None


def render_default(request: RenderRequest) -> str:
    """The bot's own text for a key in the requested tone (no tenant template)."""
    spec = spec_for(request.key)
    locale = formatting_locale(request.locale, spec.default_language(request.locale))
    values = prepare_variables(
        request.variables, locale, request.tone, request.business_name, request.now
    )
    return render_source(
        spec.default_text(request.tone.preset, request.locale), values, request.tone
    )
