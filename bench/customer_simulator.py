"""Goal-driven simulated customers (`make bench`, or on its own: `.venv/services/bin/python
bench/customer_simulator.py [N]`): prints figures, asserts nothing.

Each customer of a demo business (salon, clinic, restaurant) wants one thing and holds to
it: one free time for a service (with a named person or anyone, for a party size at the
restaurant), moving an existing booking to a free time, or cancelling one of two bookings.
They talk to the bot over WhatsApp (the Evolution sandbox), as people do, drawn at random:
- openers: a greeting first, everything at once, piece by piece, or "what times do you
  have ..." first;
- dates and times in many phrasings ("the 4th", "Friday", "December 4", "4/12",
  "afternoon 3:15", "quarter past 3 in the afternoon", "15h15"), services by name or
  alias, sometimes misspelt;
- repair moves: a wrong day first and a correction after, a question in the middle (the
  price, the hours, the address), "no" at the confirmation, choosing from a list by its
  number, by an ordinal or by the time itself, "none of those" when the list lacks it.
Customers write in English, European and Brazilian Portuguese and Spanish
(bench/foreign_customers.py), `SIMULATOR_CONVERSATIONS` of each (`SIMULATOR_LANGUAGES`
chooses which). Success means the booking service ends in exactly the state the customer
wanted, with nothing else booked. Printed: the task-success rate (per business, per
language), turns per success, and every failed conversation's transcript. No LLM is
configured: this measures the assistant without one.
"""

from __future__ import annotations

import os
import random
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.foreign_customers import (  # noqa: E402
    SPEECH,
    ForeignCustomerMixin,
    Speech,
    short_name,
)
from bench.stack_bench import running_stack  # noqa: E402
from booka_common.templating import formatting_locale, locale_time, locale_when  # noqa: E402
from tests.assistant.stack import Stack, latest_model  # noqa: E402

CONVERSATIONS = (  # per language
    int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("SIMULATOR_CONVERSATIONS", "120"))
)
LANGUAGES = os.environ.get("SIMULATOR_LANGUAGES", "en,pt-PT,pt-BR,es").split(",")
MAX_TURNS = 16
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")
SEED = int(os.environ.get("SIMULATOR_SEED", "16"))
TENANTS = ("bella-salon", "smile-dental", "harbour-table")
NAMES = [
    "Maria Silva",
    "Rita",
    "Tiago Costa",
    "Inês",
    "John Miller",
    "Priya Shah",
    "Sam",
    "Leonor Sousa",
    "Ana Lima",
    "Carlos",
    "Emma Brown",
    "Duarte Melo",
    "Chen Wei",
    "Fatima",
    "Olivia",
    "Tomás Reis",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
SUFFIX = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}
DIGRESSIONS = [
    "how much is it?",
    "what time do you close?",
    "where are you exactly?",
    "are you a bot?",
]


@dataclass
class Goal:
    kind: str  # "book", "move" or "cancel"
    tenant: dict[str, Any]
    service: dict[str, Any]
    staff: str | None  # a name, or None for anyone
    start: datetime
    party: int = 1
    name: str = ""
    booking: dict[str, Any] | None = None  # the booking to move or cancel
    others: list[dict[str, Any]] = field(
        default_factory=list
    )  # bookings that must stay as they are


class Customer:
    """What one simulated customer says, given what the bot just said."""

    def __init__(self, goal: Goal, rng: random.Random) -> None:
        self.goal, self.rng = goal, rng
        self.tz = ZoneInfo(goal.tenant["timezone"])
        self.locale = formatting_locale(goal.tenant.get("locale", "en"), "en")
        self.opener = rng.choice(
            ["all", "all", "greet", "piece", "browse"]
            if goal.kind == "book"
            else ["all", "greet", "piece"]
        )
        self.wrong_first = rng.random() < 0.2
        self.digress = rng.random() < 0.2
        self.no_at_confirm = rng.random() < 0.15
        self.typos = rng.random() < 0.15
        self.said_no = self.digressed = self.corrected = False
        self.plan: list[str] = []

    # --- the goal in words --------------------------------------------------------------
    def service_words(self) -> str:
        names = [self.goal.service["name"], *(self.goal.service.get("aliases") or [])]
        words = (
            self.rng.choice(names).lower() if self.rng.random() < 0.6 else self.goal.service["name"]
        )
        if self.typos and len(words) > 5:
            i = self.rng.randrange(1, len(words) - 2)
            words = words[:i] + words[i + 1] + words[i] + words[i + 2 :]
        return words

    def staff_words(self) -> str:
        if self.goal.staff is None:
            return self.rng.choice(
                ["anyone", "anyone is fine", "no preference", "whoever is free", "i don't mind"]
            )
        return self.rng.choice(
            [self.goal.staff, short_name(self.goal.staff), f"with {self.goal.staff}"]
        )

    def day_words(self, when: datetime | None = None) -> str:
        when = (when or self.goal.start).astimezone(self.tz)
        ahead = (when.date() - datetime.now(self.tz).date()).days
        us = self.goal.tenant.get("country") == "US"
        options = [
            f"the {when.day}{SUFFIX.get(when.day, 'th')}",
            f"{MONTHS[when.month - 1]} {when.day}",
            f"{when.day} {MONTHS[when.month - 1][:3]}",
            f"{WEEKDAYS[when.weekday()]} the {when.day}{SUFFIX.get(when.day, 'th')}",
            f"{when.month}/{when.day}" if us else f"{when.day}/{when.month}",
        ]
        if ahead == 1:
            options += ["tomorrow", "tomorrow", "tmrw"]
        if 1 < ahead < 7:
            options += [
                WEEKDAYS[when.weekday()],
                f"this {WEEKDAYS[when.weekday()]}",
                f"on {WEEKDAYS[when.weekday()].lower()}",
            ]
        return self.rng.choice(options)

    def time_words(self, when: datetime | None = None) -> str:
        when = (when or self.goal.start).astimezone(self.tz)
        h, m = when.hour, when.minute
        h12, half = (h - 1) % 12 + 1, "am" if h < 12 else "pm"
        part = "morning" if h < 12 else "afternoon" if h < 17 else "evening"
        options = [
            f"{h12}:{m:02d}{half}",
            f"at {h12}:{m:02d} {half}",
            f"{h}:{m:02d}",
            f"{part} {h12}:{m:02d}",
            f"{h12}:{m:02d} in the {part}",
            f"{h}h{m:02d}",
        ]
        if m == 0:
            options += [f"{h12}{half}", f"at {h12} {half}", f"{h}h"] + (
                [f"at {h12}"] if 1 <= h12 <= 7 and h >= 12 else []
            )
        if m == 15:
            options.append(f"quarter past {h12} in the {part}")
        if m == 30:
            options.append(f"half past {h12} in the {part}")
        if m == 45:
            options.append(f"quarter to {h12 % 12 + 1} in the {part}")
        return self.rng.choice(options)

    def when_words(self, when: datetime | None = None) -> str:
        day, clock = self.day_words(when), self.time_words(when)
        return self.rng.choice(
            [
                f"{day} at {clock}" if not clock.startswith("at ") else f"{day} {clock}",
                f"{clock} {day}" if not day.startswith("on ") else f"{clock} {day}",
                f"{day}, {clock}",
            ]
        )

    def wrong_when(self) -> datetime:
        return self.goal.start + timedelta(days=self.rng.choice([1, 2, 3]))

    def request(self, first: bool = True) -> str:
        """Everything at once."""
        goal = self.goal
        when = self.when_words(self.wrong_when() if first and self.wrong_first else None)
        if goal.kind == "move":
            return self.rng.choice(
                [
                    f"can i move my {goal.service['name'].lower()} to {when}",
                    f"i need to reschedule to {when}",
                    f"please change my appointment to {when}",
                ]
            )
        if goal.kind == "cancel":
            return self.rng.choice(
                [
                    f"i need to cancel my {goal.service['name'].lower()} on {self.day_words()}",
                    f"please cancel the {goal.service['name'].lower()} booking",
                ]
            )
        if goal.tenant["vertical"] == "restaurant":
            meal = f" for {goal.service['name'].lower()}" if self.rng.random() < 0.5 else ""
            return self.rng.choice(
                [
                    f"can i get a table for {goal.party}{meal} {when}",
                    f"table for {goal.party} please, {when}",
                    f"hi, do you have a table for {goal.party} people {when}?",
                    f"i'd like to book {self.service_words()} for {goal.party} people {when}",
                ]
            )
        staff = (
            ""
            if goal.staff is None
            else f" with {self.rng.choice([goal.staff, short_name(goal.staff)])}"
        )
        return self.rng.choice(
            [
                f"can i get a {self.service_words()}{staff} {when}?",
                f"i'd like to book a {self.service_words()}{staff} for {when}",
                f"do you have anything {when}? it's for a {self.service_words()}{staff}",
                f"{self.service_words()}{staff} {when} please",
            ]
        )

    def opening(self) -> list[str]:
        goal = self.goal
        if self.opener == "greet":
            return [self.rng.choice(["hi", "hello!", "good morning", "hey there"]), self.request()]
        if self.opener == "piece":
            first = {
                "book": "i'd like to book an appointment",
                "move": "i need to move my appointment",
                "cancel": "i want to cancel a booking",
            }[goal.kind]
            if goal.tenant["vertical"] == "restaurant" and goal.kind == "book":
                first = "i'd like to make a reservation"
            return [first]
        if self.opener == "browse":
            thing = (
                f"for {goal.party}"
                if goal.tenant["vertical"] == "restaurant"
                else f"for a {self.service_words()}"
            )
            return [
                self.rng.choice(
                    [
                        f"what times do you have {self.day_words()} {thing}?",
                        f"anything free {self.day_words()} {thing}?",
                    ]
                )
            ]
        return [self.request()]

    # --- reading the bot -----------------------------------------------------------------
    def goal_clock(self) -> str:
        return locale_time(self.goal.start.astimezone(self.tz), self.locale)

    def goal_when(self) -> str:
        return locale_when(self.goal.start.astimezone(self.tz), self.locale, datetime.now(self.tz))

    def reply(self, bot: str) -> str | None:
        """The customer's next message, or None when they are done (or give up)."""
        if self.plan:
            return self.plan.pop(0)
        text = bot.lower()
        if re.search(
            r"you're booked|is confirmed|reference:|has been cancelled|is cancelled|cancelled your|"
            r"i've cancelled|moved your|has been moved|is now",
            text,
        ) and not re.search(r"shall i|\?$", text.strip()):
            return None
        if self.digress and not self.digressed and ("?" in bot) and self.rng.random() < 0.5:
            self.digressed = True
            return self.rng.choice(DIGRESSIONS)
        if "what would you like to change" in text:
            return self.rng.choice(["the time", "the day and time", self.when_words()])
        if re.search(r"shall i book|move your .* to |cancel your ", text):
            return self.confirm(bot)
        if "who would you like" in text or "who you mean" in text or "who you'd like" in text:
            return self.staff_words()
        if re.search(r"^\s*1\. ", bot, re.M) and re.search(r"which booking", text):
            return self.pick_booking(bot)
        if re.search(r"^\s*1\. ", bot, re.M) and (
            "which one would you like" in text
            or "free" in text
            or "nearest" in text
            or "isn't free today" in text
            or "next day" in text
        ):
            return self.pick_time(bot)
        if "what name" in text or "name should" in text or "catch a name" in text:
            return self.rng.choice(
                [
                    self.goal.name,
                    f"it's {self.goal.name}",
                    f"my name is {self.goal.name}",
                    self.goal.name.lower(),
                ]
            )
        if "how many people" in text:
            return self.rng.choice(
                [str(self.goal.party), f"{self.goal.party} people", f"for {self.goal.party}"]
            )
        if re.search(
            r"what would you like to book|which one do you mean|which service|don't seem to offer",
            text,
        ):
            return self.service_words() if self.goal.kind == "book" else self.request(first=False)
        if re.search(
            r"day and time|when would you like|another day|what time|another time|when else", text
        ):
            return self.when_words()
        if "pass you to a person" in text or "talk to a person" in text and "?" in text:
            return self.request(first=False)
        return self.request(first=False)

    def confirm(self, bot: str) -> str:
        matches = (
            self.goal_clock().lower() in bot.lower()
            and self.goal_when().split(" at ")[0].lower() in bot.lower()
        )
        if (
            self.goal.kind == "book"
            and self.goal.staff
            and short_name(self.goal.staff).lower() not in bot.lower()
        ):
            matches = False
        if self.goal.kind == "cancel":
            matches = (
                self.goal.service["name"].lower() in bot.lower()
                and self.goal_when().split(" at ")[0].lower() in bot.lower()
            )
        if matches and self.no_at_confirm and not self.said_no and self.goal.kind == "book":
            self.said_no = True
            self.plan = ["actually it's fine, book it"]
            return self.rng.choice(["no", "no wait"])
        if matches:
            return self.rng.choice(
                ["yes", "yes please", "yep", "perfect, yes", "ok", "sounds good"]
            )
        if self.goal.kind == "cancel":
            return "no, the other one"
        return self.rng.choice(
            [f"no, {self.when_words()}", f"no, i wanted {self.when_words()}", "no"]
        )

    def pick_time(self, bot: str) -> str:
        clock = self.goal_clock()
        day_ok = self.goal_when().split(" at ")[0].lower() in bot.lower()
        lines = re.findall(r"^\s*(\d+)\. (.*)$", bot, re.M)
        for number, line in lines:
            if (
                re.search(rf"(?<![\d:]){re.escape(clock)}(?![\d])", line)
                and (day_ok or self.goal_when().split(" at ")[0] in line)
                and (
                    self.goal.staff is None
                    or short_name(self.goal.staff) in line
                    or "with" not in line
                )
            ):
                return self.rng.choice(
                    [
                        number,
                        f"the {ORDINALS[int(number) - 1]} one",
                        f"the {self.time_words().removeprefix('at ')} one",
                        f"{number} please",
                    ]
                )
        return self.rng.choice(
            [
                f"none of those, {self.when_words()}",
                f"none of those work, can i have {self.when_words()}?",
                self.when_words(),
            ]
        )

    def pick_booking(self, bot: str) -> str:
        day = locale_when(
            datetime.fromisoformat(self.goal.booking["start"]).astimezone(self.tz),
            self.locale,
            datetime.now(self.tz),
        ).split(" at ")[0]
        clock = locale_time(
            datetime.fromisoformat(self.goal.booking["start"]).astimezone(self.tz), self.locale
        )
        lines = re.findall(r"^\s*(\d+)\. (.*)$", bot, re.M)
        matching = [
            (n, line)
            for n, line in lines
            if self.goal.booking["service"]["name"] in line and day in line
        ]
        for number, line in matching:
            if len(matching) > 1 and clock not in line:
                continue
            words = f"the {self.goal.booking['service']['name'].lower()} one"
            if len(matching) > 1:
                words = f"the {clock} one"
            ordinal = f"the {['first', 'second', 'third'][int(number) - 1]} one"
            return self.rng.choice([number, ordinal, words])
        return "the first one"


class ForeignCustomer(ForeignCustomerMixin, Customer):
    """A customer who writes in Portuguese or Spanish."""

    def __init__(self, goal: Goal, rng: random.Random, speech: Speech) -> None:
        super().__init__(goal, rng)
        self.speech = speech


def customer_for(goal: Goal, rng: random.Random, language: str) -> Customer:
    return Customer(goal, rng) if language == "en" else ForeignCustomer(goal, rng, SPEECH[language])


def free_starts(
    stack: Stack, tenant: str, service: dict[str, Any], staff: str, day: datetime, party: int
) -> list[dict[str, Any]]:
    until = (day + timedelta(days=1)).isoformat()
    query = (
        f"service={service['id']}&staff={quote(staff)}&from={quote(day.isoformat())}"
        f"&to={quote(until)}&party_size={party}"
    )
    status, body = stack.booking_api("GET", f"/v1/tenants/{tenant}/availability?{query}")
    return body["slots"] if status == 200 else []


def catalog(stack: Stack, tenant: str) -> dict[str, Any]:
    info = stack.booking_api("GET", f"/v1/tenants/{tenant}")[1]
    services = stack.booking_api("GET", f"/v1/tenants/{tenant}/services")[1]
    staff = stack.booking_api("GET", f"/v1/tenants/{tenant}/staff")[1]
    return {"tenant": info, "services": listed(services), "staff": listed(staff)}


def listed(body: Any) -> list[Any]:
    """The rows of a collection answer, whichever key the service names them by."""
    if isinstance(body, dict):
        return body.get("items") or body.get("services") or body.get("staff") or []
    return body


def a_free_time(
    stack: Stack,
    shop: dict[str, Any],
    rng: random.Random,
    service: dict[str, Any],
    staff: dict[str, Any] | None,
    party: int,
    earliest_days: int = 1,
) -> dict[str, Any] | None:
    tz = ZoneInfo(shop["tenant"]["timezone"])
    for _ in range(20):
        day = (datetime.now(tz) + timedelta(days=rng.randint(earliest_days, 20))).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        slots = free_starts(
            stack, shop["tenant"]["slug"], service, str(staff["id"]) if staff else "any", day, party
        )
        if slots:
            return rng.choice(slots)
    return None


def make_goal(stack: Stack, shop: dict[str, Any], rng: random.Random, number: str) -> Goal | None:
    tenant = shop["tenant"]
    kind = rng.choices(["book", "move", "cancel"], weights=[7, 2, 1])[0]
    service = rng.choice(shop["services"])
    performers = [p for p in shop["staff"] if p["id"] in (service.get("staff_ids") or [])]
    staff = rng.choice(performers) if performers and rng.random() < 0.5 else None
    party = rng.randint(1, 8) if tenant["vertical"] == "restaurant" else 1
    name = rng.choice(NAMES)
    slot = a_free_time(stack, shop, rng, service, staff, party)
    if slot is None:
        return None
    goal = Goal(
        kind,
        tenant,
        service,
        (slot.get("staff") or {}).get("name") if staff else None,
        datetime.fromisoformat(slot["start"]),
        party,
        name,
    )
    if kind == "book":
        return goal
    existing = []
    for _ in range(1 if kind == "move" else 2):
        # two days out at least: a booking within the 24-hour notice cannot be moved or
        # cancelled by the bot, rightly, and the goal would fail by the hour the run starts
        other = a_free_time(stack, shop, rng, service, None, party, earliest_days=2)
        if other is None or other["start"] == slot["start"]:
            return None
        body = {
            "service": service["id"],
            "staff": (other.get("staff") or {}).get("id") or "any",
            "start": other["start"],
            "party_size": party,
            "customer": {"phone": "+" + number, "name": name},
            "channel": "whatsapp",
        }
        status, made = stack.booking_api(
            "POST",
            f"/v1/tenants/{tenant['slug']}/bookings",
            body,
            Idempotency_Key=f"sim-{number}-{len(existing)}",
        )
        if status != 201:
            return None
        existing.append(made)
    goal.booking, goal.others = existing[0], existing[1:]
    goal.staff = None  # a move names the new time, not a person: whoever is free then
    if kind == "cancel":
        goal.start, goal.staff = datetime.fromisoformat(existing[0]["start"]), None
        if rng.random() < 0.5 and goal.others:
            goal.booking, goal.others = goal.others[0], [existing[0]]
            goal.start = datetime.fromisoformat(goal.booking["start"])
    return goal


def converse(stack: Stack, instance: str, number: str, text: str) -> str:
    before = len([m for m in stack.chat(instance, number) if m["from_me"]])
    stack.whatsapp(instance, number, text)
    replies = stack.bot_replies(instance, number, before + 1, timeout=30)
    time.sleep(0.4)  # a turn may send more than one message
    replies = [m["text"] for m in stack.chat(instance, number) if m["from_me"]]
    return "\n".join(replies[before:])


def outcome(stack: Stack, goal: Goal, number: str) -> tuple[bool, str]:
    status, body = stack.booking_api(
        "GET", f"/v1/tenants/{goal.tenant['slug']}/bookings?phone=%2B{number}"
    )
    bookings = [b for b in body["bookings"] if b["status"] in ("confirmed", "held")]
    if goal.kind == "cancel":
        kept = {b["id"] for b in bookings}
        ok = goal.booking["id"] not in kept and kept == {b["id"] for b in goal.others}
        return ok, f"left: {[b['service']['name'] + ' ' + b['start'] for b in bookings]}"
    if len(bookings) != 1:
        return (
            False,
            (
                f"{len(bookings)} bookings:"
                f" {[b['service']['name'] + ' ' + b['start'] for b in bookings]}"
            ),
        )
    booking = bookings[0]
    ok = (
        datetime.fromisoformat(booking["start"]) == goal.start
        and booking["service"]["id"] == goal.service["id"]
        and (goal.staff is None or (booking.get("staff") or {}).get("name") == goal.staff)
        and booking.get("party_size", 1) == goal.party
        and (goal.kind == "book" or booking["id"] == goal.booking["id"])
    )
    return (
        ok,
        (
            f"booked {booking['service']['name']} {booking['start']} with"
            f" {(booking.get('staff') or {}).get('name')} for {booking.get('party_size')}"
        ),
    )


def simulate(
    stack: Stack, shop: dict[str, Any], rng: random.Random, index: int, language: str
) -> dict[str, Any] | None:
    prefix = "3519" if language == "en" else SPEECH[language].phone_prefix
    number = f"{prefix}{index:08d}"
    goal = make_goal(stack, shop, rng, number)
    if goal is None:
        return None
    customer, transcript = customer_for(goal, rng, language), []
    messages = customer.opening()
    turns = 0
    while messages and turns < MAX_TURNS:
        said = messages.pop(0)
        bot = converse(stack, goal.tenant["evolution_instance"], number, said)
        turns += 1
        transcript.append((said, bot))
        if not messages:
            nxt = customer.reply(bot)
            if nxt is not None:
                messages.append(nxt)
    ok, state = outcome(stack, goal, number)
    want = (
        f"{goal.kind} {goal.service['name']}"
        f" {goal.start.astimezone(ZoneInfo(goal.tenant['timezone'])):%a %d %b %H:%M}"
        f" staff={goal.staff} party={goal.party} opener={customer.opener}"
    )
    return {
        "ok": ok,
        "turns": turns,
        "goal": want,
        "state": state,
        "transcript": transcript,
        "tenant": goal.tenant["slug"],
        "language": language,
    }


def main() -> None:
    model = latest_model()
    results: list[dict[str, Any]] = []
    with running_stack(
        model, EVOLUTION_TYPING_MS="0", LLM_BASE_URL="", LOG_LEVEL="WARNING"
    ) as stack:
        shops = {slug: catalog(stack, slug) for slug in TENANTS}
        for slug in TENANTS:
            stack.connect_whatsapp(shops[slug]["tenant"]["evolution_instance"])
        lock = threading.Lock()

        def run(slug: str, offset: int) -> None:
            rng = random.Random(SEED * 1000 + offset)
            for number, language in enumerate(LANGUAGES):
                for n in range(offset, CONVERSATIONS, len(TENANTS)):
                    result = simulate(stack, shops[slug], rng, number * 10**6 + n, language)
                    if result is not None:
                        with lock:
                            results.append(result)

        threads = [threading.Thread(target=run, args=(slug, i)) for i, slug in enumerate(TENANTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    report(results)


def report(results: list[dict[str, Any]]) -> None:
    successes = [r for r in results if r["ok"]]
    print(
        f"\nSimulated customers: {len(results)} conversations through the Evolution sandbox (seed"
        f" {SEED}, no LLM)"
    )
    for slug in TENANTS:
        mine = [r for r in results if r["tenant"] == slug]
        print(f"  {slug:14} task success {sum(r['ok'] for r in mine)}/{len(mine)}")
    for language in LANGUAGES:
        mine = [r for r in results if r["language"] == language]
        rate = sum(r["ok"] for r in mine) / max(1, len(mine))
        print(
            f"  {language:14} task success {sum(r['ok'] for r in mine)}/{len(mine)} = {rate:.3f}"
            " (target >= 0.90)"
        )
    rate = len(successes) / max(1, len(results))
    turns = sum(r["turns"] for r in successes) / max(1, len(successes))
    print(
        f"  task success {len(successes)}/{len(results)} = {rate:.3f} (target >= 0.95); turns per"
        f" success {turns:.1f}"
    )
    for r in results:
        if r["ok"]:
            continue
        print(f"\n--- FAILED ({r['language']}): wanted {r['goal']}; {r['state']}")
        for said, bot in r["transcript"]:
            print(f"  > {said}")
            for line in bot.splitlines():
                print(f"    < {line}")


if __name__ == "__main__":
    main()
