"""Simulated customers who write in Portuguese (Portugal, Brazil) or Spanish, for
bench/customer_simulator.py: the same goals and repair moves as the English ones, in the
words people type on WhatsApp (no accents at times, "vc", "pf", "mñn"), and reading the bot's
answers by the cues of their language.

Each language is a `Speech`: how its speakers name days, times, people and services, what
they say to open, confirm, refuse and pick from a list, and how they recognise the bot's
questions. The customer's phone number carries the country (+351, +55, +34), which is how
the bot tells European from Brazilian Portuguese.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from booka_common.templating import locale_day, locale_time


@dataclass(frozen=True)
class Speech:
    locale: str
    phone_prefix: str
    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    tomorrow: tuple[str, ...]
    greetings: tuple[str, ...]
    anyone: tuple[str, ...]
    yes: tuple[str, ...]
    no: tuple[str, ...]
    fine_after_all: str
    none_of_those: tuple[str, ...]  # "{when}" is the time wanted
    ordinals: tuple[str, ...]  # "the first one", ...
    the_time_one: str  # "the {clock} one"
    name_answers: tuple[str, ...]  # "{name}"
    party_answers: tuple[str, ...]  # "{n}"
    change_the_time: tuple[str, ...]
    other_booking: str
    digressions: tuple[str, ...]
    # the customer's openings ({service}, {staff}, {when}, {party}, {day}, {thing})
    book: tuple[str, ...]
    book_table: tuple[str, ...]
    with_staff: str
    move: tuple[str, ...]
    cancel: tuple[str, ...]
    piece: dict[str, str]
    browse: tuple[str, ...]
    for_party: str
    for_service: str
    # cues in the bot's answers (lower case regexes)
    done: str
    what_to_change: str
    confirmation: str
    who: str
    which_booking: str
    offers: str
    name_question: str
    party_question: str
    service_question: str
    time_question: str
    person_offer: str

    def clock_words(self, when: datetime) -> list[str]:
        h, m = when.hour, when.minute
        h12 = (h - 1) % 12 + 1
        part = self.part_of_day(h)
        if self.locale.startswith("pt"):
            words = [f"às {h}h{m:02d}" if m else f"às {h}h", f"{h}:{m:02d}", f"as {h}:{m:02d}"]
            if m == 0:
                words += [f"às {h12} da {part}", f"{h}h"]
            if m == 30:
                words.append(f"às {h12} e meia da {part}")
            return words
        words = [f"a las {h}:{m:02d}", f"{h}:{m:02d}"]
        if m == 0:
            words += [f"a las {h12} de la {part}", f"a las {h}"]
        if m == 30:
            words.append(f"a las {h12} y media de la {part}")
        return words

    def part_of_day(self, hour: int) -> str:
        if self.locale.startswith("pt"):
            return "manhã" if hour < 12 else "tarde" if hour < 19 else "noite"
        return "mañana" if hour < 12 else "tarde" if hour < 20 else "noche"

    def day_words(self, when: datetime, ahead: int) -> list[str]:
        month = self.months[when.month - 1]
        weekday = self.weekdays[when.weekday()]
        if self.locale.startswith("pt"):
            words = [f"dia {when.day}", f"{when.day} de {month}", f"{when.day}/{when.month}"]
            if 1 < ahead < 7:
                words += [weekday, f"na {weekday}" if weekday[-1] == "a" else f"no {weekday}"]
        else:
            words = [f"el {when.day}", f"el {when.day} de {month}", f"{when.day}/{when.month}"]
            if 1 < ahead < 7:
                words += [f"el {weekday}", weekday]
        return words + (list(self.tomorrow) if ahead == 1 else [])


def short_name(full: str) -> str:
    """How a customer names a person: the first name, not a title ("Dr. Marcus Reed": Marcus)."""
    words = [w for w in full.split() if not w.endswith(".")]
    return words[0] if words else full


PORTUGUESE_WEEKDAYS = ("segunda", "terça", "quarta", "quinta", "sexta", "sábado", "domingo")
PORTUGUESE_MONTHS = (
    "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro"
).split()
PORTUGUESE_CUES = dict(
    done=r"está marcado|agendado:|passou para|agora é|desmarcada|foi cancelad|referência:|código:",
    what_to_change=r"o que quer mudar|o que você quer mudar",
    confirmation=r"marco \*|posso agendar|mudo a sua|remarco seu|desmarco a sua|cancelo seu",
    who=r"com quem|a quem se refere|de quem você",
    which_booking=r"qual das marcações|qual agendamento",
    offers=r"qual prefere|qual você prefere|livres mais próximos|livre|próximo dia",
    name_question=r"em que nome|em nome de quem|o nome|não peguei o nome",
    party_question=r"quantas pessoas",
    service_question=r"gostaria de marcar|gostaria de agendar|qual deles|não temos|que serviço",
    time_question=(
        r"que dia e hora|qual dia e horário|para quando|outra altura|outro dia|outro horário"
    ),
    person_offer=r"passe a uma pessoa|passe você para",
)
PORTUGUESE_BASE = dict(
    weekdays=PORTUGUESE_WEEKDAYS,
    months=PORTUGUESE_MONTHS,
    tomorrow=("amanhã", "amanha", "amanhã"),
    fine_after_all="afinal está bem, pode marcar",
    ordinals=("a primeira", "a segunda", "a terceira", "a quarta", "a quinta", "a sexta"),
    the_time_one="a das {clock}",
    name_answers=("{name}", "em nome de {name}", "o meu nome é {name}", "{lower}"),
    party_answers=("{n}", "{n} pessoas", "somos {n}"),
    **PORTUGUESE_CUES,
)

SPEECH: dict[str, Speech] = {
    "pt-PT": Speech(
        locale="pt-PT",
        phone_prefix="3519",
        greetings=("olá", "bom dia", "boa tarde", "olá, boa tarde"),
        anyone=("qualquer pessoa", "tanto faz", "quem estiver livre", "não tenho preferência"),
        yes=("sim", "sim, pode ser", "pode", "sim obrigada", "está ótimo", "confirmo"),
        no=("não", "não, espere"),
        none_of_those=("nenhuma dessas, {when}", "essas não dão, pode ser {when}?", "{when}"),
        change_the_time=("a hora", "o dia e a hora", "{when}"),
        other_booking="não, a outra",
        digressions=("quanto custa?", "a que horas fecham?", "onde ficam?", "é um robô?"),
        book=(
            "queria marcar {service}{staff} {when}",
            "olá, dava para marcar {service}{staff} {when}?",
            "é possível {service}{staff} {when}?",
            "{service}{staff} {when} pf",
        ),
        book_table=(
            "queria reservar mesa para {party} {when}",
            "mesa para {party} pessoas {when}, é possível?",
            "boa tarde, têm mesa para {party} {when}?",
        ),
        with_staff=" com {staff}",
        move=(
            "queria mudar a minha marcação para {when}",
            "dá para passar a marcação para {when}?",
            "preciso de alterar a marcação para {when}",
        ),
        cancel=("preciso de desmarcar a marcação de {day}", "quero desmarcar o meu {service}"),
        piece={
            "book": "queria fazer uma marcação",
            "table": "queria reservar uma mesa",
            "move": "preciso de mudar a minha marcação",
            "cancel": "quero desmarcar uma marcação",
        },
        browse=("que horários têm {day} {thing}?", "há vaga {day} {thing}?"),
        for_party="para {party}",
        for_service="para {service}",
        **PORTUGUESE_BASE,
    ),
    "pt-BR": Speech(
        locale="pt-BR",
        phone_prefix="5511",
        greetings=("oi", "oi, tudo bem?", "bom dia", "olá"),
        anyone=("qualquer um", "tanto faz", "quem estiver livre", "sem preferência"),
        yes=("sim", "pode sim", "isso", "beleza, pode agendar", "sim, obrigada", "fechado"),
        no=("não", "não, pera"),
        none_of_those=("nenhum desses, {when}", "esses não dá, pode ser {when}?", "{when}"),
        change_the_time=("o horário", "o dia e o horário", "{when}"),
        other_booking="não, o outro",
        digressions=("quanto custa?", "que horas vcs fecham?", "vcs ficam onde?", "vc é robô?"),
        book=(
            "quero agendar {service}{staff} {when}",
            "oi, tem como agendar {service}{staff} {when}?",
            "vcs tem horário {when}? é pra {service}{staff}",
            "{service}{staff} {when} por favor",
        ),
        book_table=(
            "quero reservar uma mesa pra {party} {when}",
            "tem mesa pra {party} pessoas {when}?",
        ),
        with_staff=" com {staff}",
        move=(
            "preciso remarcar meu horário pra {when}",
            "da pra passar meu agendamento pra {when}?",
        ),
        cancel=("preciso cancelar meu horário de {day}", "quero cancelar o {service}"),
        piece={
            "book": "quero fazer um agendamento",
            "table": "quero reservar uma mesa",
            "move": "preciso remarcar meu horário",
            "cancel": "quero cancelar um agendamento",
        },
        browse=("quais horários vcs tem {day} {thing}?", "tem vaga {day} {thing}?"),
        for_party="pra {party}",
        for_service="pra {service}",
        **{
            **PORTUGUESE_BASE,
            "ordinals": (
                "o primeiro",
                "o segundo",
                "o terceiro",
                "o quarto",
                "o quinto",
                "o sexto",
            ),
            "the_time_one": "o das {clock}",
            "fine_after_all": "na verdade tá bom, pode agendar",
            "name_answers": ("{name}", "meu nome é {name}", "no nome de {name}", "{lower}"),
        },
    ),  # fmt: skip
    "es": Speech(
        locale="es-ES",
        phone_prefix="346",
        weekdays=("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
        months=(
            "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre"
            " diciembre"
        ).split(),
        tomorrow=("mañana", "mñn", "mañana"),
        greetings=("hola", "buenas", "hola, buenos días", "buenas tardes"),
        anyone=("cualquiera", "me da igual", "quien esté libre", "sin preferencia"),
        yes=("sí", "si", "sí, perfecto", "vale", "dale", "sí, gracias", "confirmo"),
        no=("no", "no, espera"),
        fine_after_all="bueno, está bien, resérvalo",
        none_of_those=("ninguna de esas, {when}", "esas no me van, ¿puede ser {when}?", "{when}"),
        ordinals=("la primera", "la segunda", "la tercera", "la cuarta", "la quinta", "la sexta"),
        the_time_one="la de las {clock}",
        name_answers=("{name}", "me llamo {name}", "a nombre de {name}", "{lower}"),
        party_answers=("{n}", "{n} personas", "somos {n}"),
        change_the_time=("la hora", "el día y la hora", "{when}"),
        other_booking="no, la otra",
        digressions=("¿cuánto cuesta?", "¿a qué hora cerráis?", "¿dónde estáis?", "¿eres un bot?"),
        book=(
            "quería pedir cita para {service}{staff} {when}",
            "hola, ¿me das cita para {service}{staff} {when}?",
            "¿tienes hueco {when}? es para {service}{staff}",
            "{service}{staff} {when} porfa",
        ),
        book_table=(
            "quería reservar mesa para {party} {when}",
            "¿tenéis mesa para {party} personas {when}?",
        ),
        with_staff=" con {staff}",
        move=(
            "quería cambiar mi cita a {when}",
            "¿me puedes pasar la cita a {when}?",
        ),
        cancel=("tengo que cancelar la cita de {day}", "quiero cancelar mi {service}"),
        piece={
            "book": "quería pedir una cita",
            "table": "quería reservar una mesa",
            "move": "necesito cambiar mi cita",
            "cancel": "quiero cancelar una cita",
        },
        browse=("¿qué horas tenéis {day} {thing}?", "¿hay hueco {day} {thing}?"),
        for_party="para {party}",
        for_service="para {service}",
        done=(
            r"listo|tienes cita|ahora es el|se ha cambiado|está cancelada|ha sido cancelada"
            r"|referencia:"
        ),
        what_to_change=r"qué quieres cambiar",
        confirmation=r"te reservo|cambio tu cita|cancelo tu cita",
        who=r"con quién|a quién te refieres",
        which_booking=r"qué cita",
        offers=r"cuál prefieres|libre|más cercanas|próximo día",
        name_question=r"a nombre de quién|el nombre",
        party_question=r"cuántas personas",
        service_question=r"te gustaría reservar|cuál de ellos|no ofrecemos|qué servicio",
        time_question=r"qué día y hora|para cuándo|otro momento|otro día",
        person_offer=r"te pase con una persona",
    ),
}


class ForeignCustomerMixin:
    """The English `Customer`'s goals and moves, said in `speech`'s language (mixed into
    bench/customer_simulator.Customer)."""

    speech: Speech
    goal: Any
    rng: Any
    tz: Any

    # --- the goal in words --------------------------------------------------------------
    def service_words(self) -> str:
        service = self.goal.service
        names = service.get("names") or {}
        name = names.get(self.speech.locale) or names.get(self.speech.locale[:2]) or service["name"]
        words = name.lower() if self.rng.random() < 0.6 else name
        if getattr(self, "typos", False) and len(words) > 5:
            i = self.rng.randrange(1, len(words) - 2)
            words = words[:i] + words[i + 1] + words[i] + words[i + 2 :]
        return words

    def staff_words(self) -> str:
        if self.goal.staff is None:
            return self.rng.choice(self.speech.anyone)
        short = short_name(self.goal.staff)
        return self.rng.choice([self.goal.staff, short, self.speech.with_staff.format(staff=short)])

    def day_words(self, when: datetime | None = None) -> str:
        when = (when or self.goal.start).astimezone(self.tz)
        ahead = (when.date() - datetime.now(self.tz).date()).days
        return self.rng.choice(self.speech.day_words(when, ahead))

    def time_words(self, when: datetime | None = None) -> str:
        return self.rng.choice(
            self.speech.clock_words((when or self.goal.start).astimezone(self.tz))
        )

    def when_words(self, when: datetime | None = None) -> str:
        return f"{self.day_words(when)} {self.time_words(when)}"

    def request(self, first: bool = True) -> str:
        goal, speech = self.goal, self.speech
        when = self.when_words(self.wrong_when() if first and self.wrong_first else None)
        service = self.service_words()
        if goal.kind == "move":
            return self.rng.choice(speech.move).format(when=when)
        if goal.kind == "cancel":
            return self.rng.choice(speech.cancel).format(day=self.day_words(), service=service)
        if goal.tenant["vertical"] == "restaurant":
            return self.rng.choice(speech.book_table).format(party=goal.party, when=when)
        staff = "" if goal.staff is None else speech.with_staff.format(staff=short_name(goal.staff))
        return self.rng.choice(speech.book).format(service=service, staff=staff, when=when)

    def opening(self) -> list[str]:
        goal, speech = self.goal, self.speech
        if self.opener == "greet":
            return [self.rng.choice(speech.greetings), self.request()]
        if self.opener == "piece":
            kind = (
                "table"
                if goal.tenant["vertical"] == "restaurant" and goal.kind == "book"
                else goal.kind
            )
            return [speech.piece[kind]]
        if self.opener == "browse":
            thing = (
                speech.for_party.format(party=goal.party)
                if goal.tenant["vertical"] == "restaurant"
                else speech.for_service.format(service=self.service_words())
            )
            return [self.rng.choice(speech.browse).format(day=self.day_words(), thing=thing)]
        return [self.request()]

    # --- reading the bot -----------------------------------------------------------------
    def goal_clock(self) -> str:
        return locale_time(self.goal.start.astimezone(self.tz), self.speech.locale)

    def goal_day(self) -> str:
        start = self.goal.start.astimezone(self.tz)
        return locale_day(start, self.speech.locale, datetime.now(self.tz))

    def reply(self, bot: str) -> str | None:
        if self.plan:
            return self.plan.pop(0)
        speech, text = self.speech, bot.lower()
        if re.search(speech.done, text) and not re.search(speech.confirmation, text):
            return None
        if self.digress and not self.digressed and "?" in bot and self.rng.random() < 0.5:
            self.digressed = True
            return self.rng.choice(speech.digressions)
        if re.search(speech.what_to_change, text):
            return self.rng.choice(speech.change_the_time).format(when=self.when_words())
        if re.search(speech.confirmation, text):
            return self.confirm(bot)
        if re.search(speech.who, text):
            return self.staff_words()
        numbered = re.search(r"^\s*1\. ", bot, re.M)
        if numbered and re.search(speech.which_booking, text):
            return self.pick_booking(bot)
        if numbered and re.search(speech.offers, text):
            return self.pick_time(bot)
        if re.search(speech.name_question, text):
            name = self.goal.name
            return self.rng.choice(speech.name_answers).format(name=name, lower=name.lower())
        if re.search(speech.party_question, text):
            return self.rng.choice(speech.party_answers).format(n=self.goal.party)
        if re.search(speech.service_question, text):
            return self.service_words() if self.goal.kind == "book" else self.request(first=False)
        if re.search(speech.time_question, text):
            return self.when_words()
        return self.request(first=False)

    def confirm(self, bot: str) -> str:
        low = bot.lower()
        matches = self.goal_clock() in bot and self.goal_day().lower() in low
        if self.goal.kind == "book" and self.goal.staff:
            matches = matches and short_name(self.goal.staff).lower() in low
        if self.goal.kind == "cancel":
            matches = self.goal_day().lower() in low
        if matches and self.no_at_confirm and not self.said_no and self.goal.kind == "book":
            self.said_no = True
            self.plan = [self.speech.fine_after_all]
            return self.rng.choice(self.speech.no)
        if matches:
            return self.rng.choice(self.speech.yes)
        if self.goal.kind == "cancel":
            return self.speech.other_booking
        return self.rng.choice(self.speech.none_of_those).format(when=self.when_words())

    def pick_time(self, bot: str) -> str:
        clock, day = self.goal_clock(), self.goal_day().lower()
        day_ok = day in bot.lower()
        for number, line in re.findall(r"^\s*(\d+)\. (.*)$", bot, re.M):
            if (
                re.search(rf"(?<![\d:]){re.escape(clock)}(?![\d])", line)
                and (day_ok or day in line.lower())
                and (
                    self.goal.staff is None
                    or short_name(self.goal.staff) in line
                    or not re.search(r"\b(com|con)\b", line)
                )
            ):
                return self.rng.choice(
                    [
                        number,
                        self.speech.ordinals[int(number) - 1],
                        self.speech.the_time_one.format(clock=clock),
                    ]
                )
        return self.rng.choice(self.speech.none_of_those).format(when=self.when_words())

    def pick_booking(self, bot: str) -> str:
        start = datetime.fromisoformat(self.goal.booking["start"]).astimezone(self.tz)
        day = locale_day(start, self.speech.locale, datetime.now(self.tz)).lower()
        clock = locale_time(start, self.speech.locale)
        lines = re.findall(r"^\s*(\d+)\. (.*)$", bot, re.M)
        matching = [(n, line) for n, line in lines if day in line.lower()]
        for number, line in matching:
            if len(matching) > 1 and clock not in line:
                continue
            return self.rng.choice([number, self.speech.ordinals[int(number) - 1]])
        return self.speech.ordinals[0]

    def wrong_when(self) -> datetime:
        return self.goal.start + timedelta(days=self.rng.choice([1, 2, 3]))
