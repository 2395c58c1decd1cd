"""Tone profiles: the presets, each vertical's default, and a tenant's own settings on top.

A clinic speaks formally, a salon in a friendly way, a restaurant casually unless the owner
says otherwise. The owner can then turn emoji off, choose the greeting and sign-off, and
how customers are addressed (first name, full name, or not by name).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from booka_common.templating import ADDRESS_FORMS, TONES, ToneSettings, preset_greeting

PRESETS: dict[str, ToneSettings] = {
    "friendly": ToneSettings(preset="friendly", emoji=True, address="first_name"),
    "formal": ToneSettings(preset="formal", emoji=False, address="full_name"),
    "casual": ToneSettings(preset="casual", emoji=True, address="first_name"),
}
VERTICAL_DEFAULTS = {"clinic": "formal", "beauty": "friendly", "restaurant": "casual"}
STYLE_NOTES = {
    "friendly": "warm and friendly, plain words, at most one emoji",
    "formal": "polite and formal, complete sentences, no slang and no emoji",
    "casual": "relaxed and casual, short sentences, like texting a regular customer",
}


def tone_for(vertical: str, profile: Mapping[str, Any] | None, locale: str = "en") -> ToneSettings:
    """The tone a tenant speaks in: its preset (or its vertical's), then its own choices; the
    preset's greeting is in the business's language (`locale`)."""
    profile = profile or {}
    preset = profile.get("tone_preset") or VERTICAL_DEFAULTS.get(vertical, "friendly")
    base = PRESETS.get(preset, PRESETS["friendly"])
    return ToneSettings(
        preset=base.preset,
        emoji=base.emoji if profile.get("emoji") is None else bool(profile["emoji"]),
        greeting=profile.get("greeting") or preset_greeting(base.preset, locale),
        sign_off=base.sign_off if profile.get("sign_off") is None else profile["sign_off"],
        address=profile.get("address") if profile.get("address") in ADDRESS_FORMS else base.address,
    )


def tone_fingerprint(tone: ToneSettings) -> str:
    """A stable hash of everything that changes how a paraphrase should read."""
    return hashlib.sha256(json.dumps(asdict(tone), sort_keys=True).encode()).hexdigest()


OWN_TONE_FIELDS = ("tone_preset", "tone_mode", "emoji", "greeting", "sign_off", "address")


def tone_json(
    tone: ToneSettings, vertical: str, mode: str, profile: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The tone in force, and `own`: what the business chose itself (None: the preset's)."""
    return {
        **asdict(tone),
        "mode": mode,
        "vertical_default": VERTICAL_DEFAULTS.get(vertical, "friendly"),
        "presets": list(TONES),
        "own": {name: (profile or {}).get(name) for name in OWN_TONE_FIELDS},
    }
