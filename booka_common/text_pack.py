"""A tenant's texts, compiled once by the tenant engine and rendered wherever they are used.

The tenant engine stays the one place that stores and checks templates; it hands each process
that speaks to customers a `TextPack`: the tenant's templates in force, its tone, and the
LLM paraphrases made for that tone, stamped with the tenant's config version. The action
server and the Rasa server render from their copy, and ask again only when the version
may have changed (a conditional GET, answered 304 while it has not). Choosing a template
and rendering it are the same functions in the tenant engine and here, so a text reads the
same wherever it is made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import structlog

from booka_common.templating import (
    DEFAULT_LANGUAGE,
    ToneSettings,
    babel_locale,
    formatting_locale,
    prepare_variables,
    render_off_loop,
    spec_for,
)

log = structlog.get_logger("booka.text_pack")
TemplateKey = tuple[str, str, str]  # (key, locale, tone variant or "any")


@dataclass
class ChosenSource:
    """The template text a key is rendered from, and where it came from."""

    source: str
    origin: str  # "tenant" or "default" ("paraphrase" once rewritten in the tone)
    version: int | None = None
    tone_specific: bool = False
    language: str = DEFAULT_LANGUAGE


@dataclass
class Rendered:
    text: str
    origin: str  # "tenant", "default" or "paraphrase"
    version: int | None = None


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def choose_source(
    templates: Mapping[TemplateKey, Mapping[str, Any]], key: str, locale: str, tone: ToneSettings
) -> ChosenSource:
    """The tenant's template for the key in the conversation's locale, then in its language
    (any region: a pt-PT salon's own text beats the bot's pt-BR default for a Brazilian),
    the tone's own variant before the one for any tone; else the bot's default in that
    language and tone."""
    spec = spec_for(key)
    language = babel_locale(locale).language
    regions = sorted(
        c for (k, c, _variant) in templates if k == key and babel_locale(c).language == language
    )
    for candidate in dict.fromkeys((locale, language, *regions)):
        for variant in (tone.preset, "any"):
            row = templates.get((key, candidate, variant))
            if row and row.get("body") is not None:
                return ChosenSource(
                    row["body"],
                    "tenant",
                    row.get("version"),
                    tone_specific=variant != "any",
                    language=babel_locale(candidate).language,
                )
    return ChosenSource(
        spec.default_text(tone.preset, locale),
        "default",
        tone_specific=spec.has_variant(tone.preset, locale),
        language=spec.default_language(locale),
    )


async def render_chosen(
    chosen: ChosenSource,
    key: str,
    variables: Mapping[str, Any],
    *,
    locale: str,
    tone: ToneSettings,
    business_name: str,
    now: datetime | None = None,
    paraphrase: str | None = None,
) -> Rendered:
    """The text, from the paraphrase when there is one; the default for the key when the
    owner's template fails at render time (an owner's template never breaks a turn)."""
    source, origin = (paraphrase, "paraphrase") if paraphrase else (chosen.source, chosen.origin)
    values = prepare_variables(
        variables, formatting_locale(locale, chosen.language), tone, business_name, now
    )
    try:
        return Rendered(await render_off_loop(source, values, tone), origin, chosen.version)
    except Exception as exc:  # noqa: BLE001 - see the docstring
        log.warning("template_render_failed", key=key, origin=origin, error=type(exc).__name__)
        default = spec_for(key).default_text(tone.preset, locale)
        return Rendered(await render_off_loop(default, values, tone), "default")


@dataclass
class TextPack:
    """One tenant's texts as of `version` (the tenant engine's config version)."""

    version: int
    business_name: str = ""
    locale: str = "en"
    tone: ToneSettings = field(default_factory=ToneSettings)
    tone_mode: str = "variants"
    templates: dict[TemplateKey, dict[str, Any]] = field(default_factory=dict)
    paraphrases: dict[str, str] = field(default_factory=dict)  # source hash -> text, this tone

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "business_name": self.business_name,
            "locale": self.locale,
            "tone": asdict(self.tone),
            "tone_mode": self.tone_mode,
            "templates": [
                {"key": key, "locale": locale, "tone": tone, **row}
                for (key, locale, tone), row in self.templates.items()
            ],
            "paraphrases": self.paraphrases,
        }

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> TextPack:
        """The pack the tenant engine sent (KeyError/TypeError/ValueError when it is not one)."""
        return cls(
            version=int(body["version"]),
            business_name=str(body.get("business_name") or ""),
            locale=str(body.get("locale") or "en"),
            tone=ToneSettings(**body["tone"]),
            tone_mode=str(body.get("tone_mode") or "variants"),
            templates={
                (row["key"], row["locale"], row["tone"]): {
                    "body": row["body"],
                    "version": row.get("version"),
                }
                for row in body["templates"]
            },
            paraphrases={str(k): str(v) for k, v in dict(body.get("paraphrases") or {}).items()},
        )

    def choose(self, key: str, locale: str | None = None) -> ChosenSource:
        return choose_source(self.templates, key, locale or self.locale, self.tone)

    def paraphrase_for(self, chosen: ChosenSource) -> str | None:
        """The stored paraphrase of this source in the tenant's tone, in the "llm" mode."""
        if self.tone_mode != "llm" or chosen.tone_specific:
            return None
        return self.paraphrases.get(source_hash(chosen.source))

    async def render(
        self,
        key: str,
        variables: Mapping[str, Any],
        *,
        locale: str | None = None,
        now: datetime | None = None,
    ) -> Rendered:
        chosen = self.choose(key, locale)
        return await render_chosen(
            chosen,
            key,
            variables,
            locale=locale or self.locale,
            tone=self.tone.speaking(locale or self.locale, self.locale),
            business_name=self.business_name,
            now=now,
            paraphrase=self.paraphrase_for(chosen),
        )
