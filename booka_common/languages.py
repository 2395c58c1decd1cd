"""Which locale a conversation is held in: the language the customer writes in (English,
Portuguese or Spanish, detected per message by the NLU), with the region taken from the
customer's phone number or else from the business.

No detector tells Portuguese from Portugal and from Brazil apart, or Spanish from Spain and
from Mexico; the phone's country code and the business's own locale do: a +55 number
writing Portuguese to a Porto salon is answered in Brazilian Portuguese, a +351 one in
European Portuguese. Used by the action server, the Rasa server's response generator and
the WhatsApp channel, so all three answer in the same locale.
"""

from __future__ import annotations

import phonenumbers
from babel import Locale, UnknownLocaleError

LANGUAGES = ("en", "pt", "es")
# The region for a language when neither the phone nor the business gives one.
DEFAULT_REGIONS = {"en": "GB", "pt": "BR", "es": "ES"}


def phone_region(phone: str | None) -> str | None:
    """The country of an E.164 number ("+5511..." -> "BR"); None when it cannot be told."""
    if not phone:
        return None
    digits = "".join(c for c in phone if c.isdigit())
    try:
        number = phonenumbers.parse(f"+{digits}")
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_country_code(number.country_code)
    return region if region and region != "ZZ" else None


def is_spoken_in(language: str, region: str) -> bool:
    """Whether the CLDR has the language as spoken in the region ("pt" in "BR" or "AO")."""
    try:
        Locale.parse(f"{language}_{region}")
    except (UnknownLocaleError, ValueError):
        return False
    return True


def language_of_locale(locale: str | None) -> str:
    """ "pt" of "pt-BR"; English for anything the bot does not speak."""
    language = (locale or "en").replace("_", "-").split("-")[0].lower()
    return language if language in LANGUAGES else "en"


def conversation_locale(language: str | None, business_locale: str, phone: str | None) -> str:
    """The locale ("pt-BR", "en-GB", "es-MX") to answer a customer writing in `language`
    (None: not known yet, the business's language). In the business's own language that is
    the business's locale, except that Portuguese follows the phone between Brazil and
    elsewhere (the two read differently); in another language, the phone's region when
    the language is spoken there, else the language's most common one."""
    business = business_locale.replace("_", "-")
    language = language if language in LANGUAGES else language_of_locale(business)
    region = phone_region(phone)
    if language_of_locale(business) == language:
        business_region = business.split("-")[1].upper() if "-" in business else None
        brazil_differs = (
            region and language == "pt" and (region == "BR") != (business_region == "BR")
        )
        if brazil_differs and is_spoken_in(language, region):
            return f"{language}-{region}"
        return business
    if region and is_spoken_in(language, region):
        return f"{language}-{region}"
    return f"{language}-{DEFAULT_REGIONS[language]}"
