"""Which customer messages are worth a person's label: the first step of the designers' loop.

From one conversation's events (as Rasa's tracker store holds them, opened), the messages
- the model was unsure of (the first intent's confidence below `SURE`, or within `MARGIN`
  of the second's);
- read as `nlu_fallback`;
- the LLM rescued (`rescued_from` in the event's metadata: the customer's own words, with
  the intent the LLM chose as the suggestion);
- just before a person took the conversation over;
- just before the customer corrected the bot ("no, I meant ...", "não, eu queria ...");
- and a random sample of all of them (`sample_rate`), for unbiased estimates.
Each is redacted (admin/redaction.py) with the names this conversation knows, its bot turn
before it too, so nothing personal leaves the tracker store in a candidate; what is stored is
sealed all the same (redaction cannot know every name). `collect` reads the conversations with
new messages since its last run (`python -m admin collect-candidates`, or periodically) and
keeps one row per distinct text, counting repeats.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from admin.conversations import event_data
from admin.redaction import folded, redact
from admin.tables import nlu_candidates, nlu_collection
from booka_common.crypto import Keyring

SURE = 0.6
MARGIN = 0.2
CORRECTION = re.compile(
    r"^\W*(?:no+|nope|not that|wrong|i meant|i said|n[ãa]o|nada disso|eu disse|eu queria|"
    r"quis dizer|não foi isso|nao foi isso|no es eso|quise decir|me refer[ií]a|dije)\b",
    re.IGNORECASE,
)
HANDOFF_SLOT = "handoff_until"
NAME_SLOT = "customer_name"


@dataclass
class Candidate:
    """One message to label, redacted."""

    text: str
    previous_bot: str
    intent: str | None
    confidence: float
    entities: list[dict[str, Any]]
    language: str | None
    timestamp: float
    reasons: list[str] = field(default_factory=list)
    index: int = -1  # the message's position in the events it was found in

    @property
    def fingerprint(self) -> str:
        """The same for near-identical texts: case, accents, punctuation and spacing aside."""
        words = re.findall(r"[\w<>]+", folded(self.text))
        return hashlib.sha256(" ".join(words).encode()).hexdigest()


def known_names(events: list[dict[str, Any]]) -> set[str]:
    """The customer's names the conversation holds: WhatsApp profile names and names given."""
    names = set()
    for event in events:
        if event.get("event") == "user":
            push_name = (event.get("metadata") or {}).get("push_name")
            if push_name:
                names.add(str(push_name))
        elif event.get("event") == "slot" and event.get("name") == NAME_SLOT and event.get("value"):
            names.add(str(event["value"]))
    return names


def unsure(parse: dict[str, Any]) -> bool:
    ranking = parse.get("intent_ranking") or []
    first = (parse.get("intent") or {}).get("confidence") or 0.0
    second = ranking[1].get("confidence") or 0.0 if len(ranking) > 1 else 0.0
    return first < SURE or first - second < MARGIN


def reasons_by_message(
    events: list[dict[str, Any]], sample_rate: float, rng: random.Random, sample_from: int = 0
):
    """(index of the user event, reasons) for every message worth labelling; only messages
    from index `sample_from` on may be drawn for the sample."""
    users = [i for i, event in enumerate(events) if event.get("event") == "user"]
    reasons: dict[int, list[str]] = {}

    def add(index: int, reason: str) -> None:
        reasons.setdefault(index, [])
        if reason not in reasons[index]:
            reasons[index].append(reason)

    for position, index in enumerate(users):
        event = events[index]
        parse = event.get("parse_data") or {}
        intent = (parse.get("intent") or {}).get("name")
        if str(intent or "").startswith("EXTERNAL_") or not (event.get("text") or "").strip():
            continue
        if (event.get("metadata") or {}).get("rescued_from"):
            add(index, "llm_rescued")
        elif intent == "nlu_fallback":
            add(index, "fallback")
        elif unsure(parse):
            add(index, "unsure")
        if index >= sample_from and rng.random() < sample_rate:
            add(index, "sample")
        following = users[position + 1] if position + 1 < len(users) else len(events)
        if any(
            e.get("event") == "slot" and e.get("name") == HANDOFF_SLOT and e.get("value")
            for e in events[index:following]
        ):
            add(index, "before_handoff")
        if following < len(events) and CORRECTION.search(events[following].get("text") or ""):
            add(index, "corrected")
    return sorted(reasons.items())


def candidates_in(
    events: list[dict[str, Any]],
    sample_rate: float = 0.02,
    rng: random.Random | None = None,
    sample_from: int = 0,
) -> list[Candidate]:
    """The candidates of one conversation, redacted (`events` as Rasa stores them)."""
    rng = rng or random.Random()
    names = known_names(events)
    found = []
    for index, why in reasons_by_message(events, sample_rate, rng, sample_from):
        event = events[index]
        parse = event.get("parse_data") or {}
        rescued_from = (event.get("metadata") or {}).get("rescued_from")
        text = rescued_from or event.get("text") or ""
        entities = [] if rescued_from else parse.get("entities") or []
        text, entities = redact(text, entities, names)
        bot = next(
            (e.get("text") or "" for e in reversed(events[:index]) if e.get("event") == "bot"), ""
        )
        found.append(
            Candidate(
                text=text,
                previous_bot=redact(bot, [], names)[0],
                intent=(parse.get("intent") or {}).get("name"),
                confidence=float((parse.get("intent") or {}).get("confidence") or 0.0),
                entities=[
                    {k: e[k] for k in ("start", "end", "entity", "value") if k in e}
                    for e in entities
                ],
                language=(parse.get("language") or {}).get("code"),
                timestamp=float(event.get("timestamp") or 0.0),
                reasons=why,
                index=index,
            )
        )
    return found


SEAL_CONTEXT = "admin_nlu_candidates"
READ_EVENTS = ("user", "bot", "slot")


@dataclass
class Collected:
    """What one collection did."""

    conversations: int = 0
    new: int = 0
    repeats: int = 0
    last_event_id: int = 0


async def collect(
    admin: AsyncEngine,
    tracker: AsyncEngine,
    keyring: Keyring,
    sample_rate: float = 0.02,
    rng: random.Random | None = None,
) -> Collected:
    """Candidates from the messages written to the tracker store since the last collection."""
    rng = rng or random.Random()
    async with admin.connect() as conn:
        last = (
            await conn.execute(
                select(nlu_collection.c.last_event_id).where(nlu_collection.c.name == "events")
            )
        ).scalar() or 0
    async with tracker.connect() as conn:
        newest = (await conn.execute(text("SELECT max(id) FROM events"))).scalar() or 0
        senders = (
            await conn.execute(
                text(
                    "SELECT DISTINCT sender_id FROM events"
                    " WHERE id > :last AND id <= :newest AND type_name = 'user'"
                ),
                {"last": last, "newest": newest},
            )
        ).scalars()
        senders = list(senders)
    done = Collected(conversations=len(senders), last_event_id=max(newest, last))
    for sender in senders:
        ids, events = await conversation_events(tracker, keyring, sender, newest)
        # a message read before may become a candidate only now ("no, I meant ..." came
        # since): what counts is whether the conversation as read then had made it one
        first_new = next((i for i, row_id in enumerate(ids) if row_id > last), len(ids))
        seen = {c.index for c in candidates_in(events[:first_new], sample_rate=0.0)}
        for candidate in candidates_in(events, sample_rate, rng, sample_from=first_new):
            if candidate.index not in seen:
                late = candidate.index < first_new  # perhaps drawn for the sample back then
                is_new = await keep(admin, keyring, sender.split(":", 1)[0], candidate, late)
                done.new += is_new
                done.repeats += not is_new and not late
    async with admin.begin() as conn:
        await save_watermark(conn, done.last_event_id)
    return done


async def conversation_events(
    tracker: AsyncEngine, keyring: Keyring, sender: str, newest: int
) -> tuple[list[int], list[dict[str, Any]]]:
    """The row ids and opened events (user, bot, slot) of one conversation, oldest first."""
    async with tracker.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT id, type_name, data FROM events WHERE sender_id = :sender"
                    " AND id <= :newest ORDER BY id"
                ),
                {"sender": sender, "newest": newest},
            )
        ).all()
    kept = [(row_id, raw) for row_id, type_name, raw in rows if type_name in READ_EVENTS]
    return [row_id for row_id, _ in kept], [event_data(keyring, sender, raw) for _, raw in kept]


async def keep(
    admin: AsyncEngine, keyring: Keyring, tenant: str, candidate: Candidate, late: bool = False
) -> bool:
    """Stores a candidate, sealed; a text already kept counts one more occurrence instead, or,
    for a message read in an earlier collection (`late`: most likely the very row, kept then
    for the sample), adds the new reasons to it. True when it was new."""
    now = datetime.now(timezone.utc)
    row = {
        "fingerprint": candidate.fingerprint,
        "tenant": tenant,
        "text": keyring.encrypt(candidate.text, SEAL_CONTEXT),
        "previous_bot": keyring.encrypt(candidate.previous_bot, SEAL_CONTEXT),
        "entities": keyring.encrypt(json.dumps(candidate.entities), SEAL_CONTEXT),
        "intent": candidate.intent,
        "confidence": candidate.confidence,
        "language": candidate.language,
        "reasons": ",".join(candidate.reasons),
        "said_at": datetime.fromtimestamp(candidate.timestamp, timezone.utc),
        "collected_at": now,
    }
    try:
        async with admin.begin() as conn:
            await conn.execute(nlu_candidates.insert().values(**row))
        return True
    except IntegrityError:
        same = nlu_candidates.c.fingerprint == candidate.fingerprint
        async with admin.begin() as conn:
            if not late:
                await conn.execute(
                    update(nlu_candidates)
                    .where(same)
                    .values(occurrences=nlu_candidates.c.occurrences + 1)
                )
                return False
            had = (await conn.execute(select(nlu_candidates.c.reasons).where(same))).scalar()
            reasons = (had or "").split(",")
            reasons += [r for r in candidate.reasons if r not in reasons]
            await conn.execute(update(nlu_candidates).where(same).values(reasons=",".join(reasons)))
        return False


async def save_watermark(conn: AsyncConnection, last_event_id: int) -> None:
    values = {"last_event_id": last_event_id, "collected_at": datetime.now(timezone.utc)}
    changed = await conn.execute(
        update(nlu_collection).where(nlu_collection.c.name == "events").values(**values)
    )
    if not changed.rowcount:
        await conn.execute(nlu_collection.insert().values(name="events", **values))


def opened(keyring: Keyring, row: dict[str, Any]) -> dict[str, Any]:
    """A stored candidate with its sealed fields opened (for the annotation queue)."""
    return {
        **row,
        "text": keyring.decrypt(row["text"], SEAL_CONTEXT),
        "previous_bot": keyring.decrypt(row["previous_bot"], SEAL_CONTEXT),
        "entities": json.loads(keyring.decrypt(row["entities"], SEAL_CONTEXT)),
    }
