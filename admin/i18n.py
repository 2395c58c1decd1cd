"""The owners' web app in the owner's language: English, Portuguese (Portugal and Brazil) and
Spanish, with gettext catalogs kept by Babel.

The texts are marked in the code (`_("...")`, `lazy("...")` for module constants) and in the
pages (`{% trans %}`, `{{ _("...") }}`); `make admin-messages` extracts them into
`admin/locale/messages.pot` and merges that into each language's `admin.po`, which a person
translates. The catalogs are compiled in memory when first used (no binary `.mo` in the
repository). pt_BR holds only what Brazilians say differently and falls back to pt_PT.

Which language a request is shown in: the signed-in user's own choice, else the default of
their business (the language of its locale), else what the browser asks for
(Accept-Language), else English. `use()` sets it for the request (a ContextVar, so that the
code and the pages rendered for one request never see another's).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from functools import cache
from gettext import NullTranslations
from pathlib import Path

import jinja2
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, get_day_names
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, Translations

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "admin"
LANGUAGES = {  # code -> the name of the language in itself, as the language menu shows it
    "en": "English",
    "pt_PT": "Português (Portugal)",
    "pt_BR": "Português (Brasil)",
    "es": "Español",
}
FALLBACKS = {"pt_BR": "pt_PT"}
DEFAULT = "en"

_current: ContextVar[str] = ContextVar("admin_language", default=DEFAULT)


@cache
def translations(code: str) -> NullTranslations:
    """The compiled catalog of a language (nothing to translate for English)."""
    path = LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if code == DEFAULT or not path.exists():
        return NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=code)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    loaded = Translations(compiled, domain=DOMAIN)
    if code in FALLBACKS:
        loaded.add_fallback(translations(FALLBACKS[code]))
    return loaded


def use(code: str) -> None:
    """Show the rest of this request in `code` (one of LANGUAGES)."""
    _current.set(code if code in LANGUAGES else DEFAULT)


def current() -> str:
    return _current.get()


@contextmanager
def speaking(code: str) -> Iterator[None]:
    """Texts made inside the block are in `code` (an email to someone whose language is not
    the reader's of this request); the request's own language comes back after it."""
    token = _current.set(code if code in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def babel_locale() -> str:
    """The locale dates are written in (British English: day before month, as before)."""
    return "en_GB" if current() == DEFAULT else current()


def html_lang() -> str:
    """The current language as HTML's `lang` attribute wants it ("pt-PT")."""
    return current().replace("_", "-")


def gettext(message: str, **variables: object) -> str:
    """`message` in the current language; `%(name)s` placeholders filled from `variables`."""
    text = translations(current()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(current()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


_ = gettext


def N_(message: str) -> str:  # noqa: N802 (gettext's own name for it)
    """Marks a text for the catalog where it is defined; `_()` translates it where shown."""
    return message


def install(environment: jinja2.Environment) -> None:
    """`{% trans %}` and `_()` in the pages, in the language of the request being rendered."""
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext,  # Jinja fills the placeholders itself (newstyle), so only the plural differs
        lambda singular, plural, n: translations(current()).ngettext(singular, plural, n),
        newstyle=True,
    )
    environment.globals["html_lang"] = html_lang
    environment.filters["long_date"] = long_date
    environment.filters["short_day"] = short_day
    environment.filters["weekday_name"] = weekday_name


def long_date(day: date, weekday: bool = True) -> str:
    """ "Sunday 6 December 2026", "domingo, 6 de dezembro de 2026" ("6 December 2026")."""
    return format_date(day, "full" if weekday else "long", locale=babel_locale())


def weekday_name(weekday: int) -> str:
    """The name of a weekday (0 is Monday) as a column or label shows it: "Monday",
    "Segunda-feira", "Lunes"."""
    name = get_day_names("wide", locale=babel_locale())[weekday]
    return name[:1].upper() + name[1:]


def short_day(day: date) -> str:
    """A column head of a week: "Sun 6", "dom., 6"."""
    return format_skeleton("EEEd", day, locale=babel_locale())


def lazy(message: str) -> LazyProxy:
    """A module-level text translated when it is shown, in the language of that request."""
    return LazyProxy(gettext, message, enable_cache=False)


def language_of_locale(locale: str | None) -> str | None:
    """The web app's language for a business's locale ("pt-BR" -> pt_BR, "pt" and "pt-AO" ->
    pt_PT, "es-MX" -> es, "en-NZ" -> en); None when it speaks none of them."""
    if not locale:
        return None
    try:
        parsed = Locale.parse(locale.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return None
    if parsed.language == "pt":
        return "pt_BR" if parsed.territory == "BR" else "pt_PT"
    return parsed.language if parsed.language in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The first language of a browser's Accept-Language header that the app speaks."""
    ranked = []
    for position, part in enumerate((header or "").split(",")):
        tag, _sep, weight = part.strip().partition(";q=")
        try:
            quality = float(weight) if weight else 1.0
        except ValueError:
            continue
        ranked.append((-quality, position, tag.strip()))
    for _quality, _position, tag in sorted(ranked):
        language = language_of_locale(tag) if tag and tag != "*" else None
        if language:
            return language
    return None


def choose(user_choice: str | None, business_locale: str | None, accept: str | None) -> str:
    """The language of a request, by the order in the module's docstring."""
    if user_choice in LANGUAGES:
        return str(user_choice)
    return language_of_locale(business_locale) or from_accept_language(accept) or DEFAULT
