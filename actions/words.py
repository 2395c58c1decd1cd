"""Words the action server reads in every language the bot speaks (English, Portuguese,
Spanish): weekdays, months, numbers and ordinals, as customers type them on WhatsApp,
accents or not. Kept in one place so that the parsers (actions/parsing.py,
actions/choices.py) share them; a designer adds a word here, not in each pattern.
"""

from __future__ import annotations

import re

# weekday index (Monday 0) by every spelling that names it
WEEKDAYS: dict[str, int] = {}
for _index, _names in enumerate(
    (
        "mon monday seg segunda segunda-feira lun lunes",
        "tue tues tuesday ter terça terca terça-feira terca-feira mar martes",
        "wed weds wednesday qua quarta quarta-feira mie mié miercoles miércoles",
        "thu thur thurs thursday qui quinta quinta-feira jue jueves",
        "fri friday sex sexta sexta-feira vie viernes",
        "sat saturday sab sáb sabado sábado",
        "sun sunday dom domingo",
    )
):
    for _name in _names.split():
        WEEKDAYS[_name] = _index

# Patterns for "a weekday is named": every spelling but the Portuguese and Spanish
# three-letter ones, which are other words too ("ter" is "to have", "mar" the sea).
SHORT_NOT_WEEKDAYS = {"seg", "ter", "qua", "qui", "sex", "sab", "sáb", "dom", "lun", "mar"}
WEEKDAY_PATTERN = "|".join(
    sorted((re.escape(n) for n in WEEKDAYS if n not in SHORT_NOT_WEEKDAYS), key=len, reverse=True)
)


def weekday_index(word: str) -> int | None:
    """Monday 0 ... Sunday 6 for a weekday's name in any language; None for other words."""
    return WEEKDAYS.get(word.casefold())


MONTHS_PATTERN = (
    r"jan|january|feb|february|mar|march|apr|april|may|june?|july?|aug|august|sept?|september|"
    r"oct|october|nov|november|dec|december|"
    r"janeiro|fevereiro|fev|mar[çc]o|abril|abr|maio|mai|junho|julho|agosto|ago|setembro|set|"
    r"outubro|out|novembro|dezembro|dez|"
    r"enero|ene|febrero|marzo|mayo|junio|julio|septiembre|setiembre|octubre|noviembre|diciembre|dic"
)

NUMBERS: dict[str, int] = {
    # English
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple": 2, "couple": 2,
    # Portuguese
    "um": 1, "uma": 1, "dois": 2, "duas": 2, "três": 3, "tres": 3, "quatro": 4, "cinco": 5,
    "seis": 6, "sete": 7, "oito": 8, "nove": 9, "dez": 10, "onze": 11, "doze": 12,
    # Spanish
    "uno": 1, "una": 1, "dos": 2, "cuatro": 4, "siete": 7, "ocho": 8, "nueve": 9,
    "diez": 10, "once": 11, "doce": 12,
}  # fmt: skip
NUMBER_PATTERN = "|".join(sorted((re.escape(n) for n in NUMBERS), key=len, reverse=True))

# ordinal words -> index in a list (0 is the first)
ORDINALS: dict[str, int] = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
    "fifth": 4, "5th": 4,
    "primeiro": 0, "primeira": 0, "1º": 0, "1ª": 0, "segundo": 1, "segunda": 1, "2º": 1, "2ª": 1,
    "terceiro": 2, "terceira": 2, "3º": 2, "3ª": 2, "quarto": 3, "quarta": 3, "4º": 3, "4ª": 3,
    "quinto": 4, "quinta": 4, "5º": 4, "5ª": 4,
    "primer": 0, "primera": 0, "tercero": 2, "tercer": 2, "tercera": 2, "cuarto": 3,
    "cuarta": 3,
}  # fmt: skip
