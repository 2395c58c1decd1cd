"""Rasa's SQL tracker store, without re-reading the whole conversation on every message.

Rasa's `SQLTrackerStore` loads and replays every event of the current session to build the
tracker for each message, and counts them all again to know which to insert: the cost of a
turn grows with the conversation (measured on PostgreSQL: 4.4 ms to retrieve at 80 events,
11.6 ms at 220, plus 3-5.5 ms to save, all blocking the event loop). This store keeps the
same table and rows — the admin app, `rasa export` and the dashboard read them as before —
and keeps the tracker it last saved for each conversation in memory. A retrieve checks with
one indexed query (the conversation's newest event id) that no other process wrote since;
if so, it hands out the kept tracker (and forgets it, so that a turn that fails before
saving never leaves a half-changed tracker behind); otherwise it reads the database as
Rasa does. A save inserts only the events added since the tracker was read or saved.

Each row's `data` (the event's JSON, full of personal data) is sealed with the keyring in
`BOOKA_SECRET_KEYS` (booka_common/sealed_events.py); `python -m bot.tracker_store
rotate-keys` re-seals rows of older keys and rows written before sealing.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from booka_common.crypto import Keyring
from booka_common.local_secrets import local_keyring, tracker_store_url
from booka_common.sealed_events import open_event, reseal, seal_event

RESEAL_BATCH = 500
MARK = (  # on a handed-out tracker: (events already in the table, the newest row id then)
    "_booka_stored_in_table"
)


@dataclass
class Kept:
    tracker: DialogueStateTracker
    newest_id: int | None  # the conversation's newest row when kept
    stored: int  # how many of tracker.events are in the table


class CachedSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` with the last saved tracker of each conversation kept in memory
    (`TRACKER_CACHE_SIZE` conversations, default 5000; 0 turns the keeping off), and every
    event sealed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keyring = local_keyring()
        self.capacity = int(os.environ.get("TRACKER_CACHE_SIZE", "5000"))
        self.kept: OrderedDict[str, Kept] = OrderedDict()
        events = self.SQLEvent.__table__
        # SQLAlchemy Core statements built once (their compiled form is cached): the ORM's
        # per-row INSERT ... RETURNING and query building took most of a save's time
        self.newest_query = sa.select(sa.func.max(events.c.id)).where(
            events.c.sender_id == sa.bindparam("sender_id")
        )
        # Rasa indexes sender_id alone; for max(id) of one sender PostgreSQL then walks the
        # primary key backwards past every other conversation's rows (25 ms at 90,000 rows,
        # three times a turn, blocking the event loop, and growing with the table). With
        # (sender_id, id) it is one index lookup.
        with self.engine.begin() as connection:
            connection.execute(
                sa.text(
                    f"CREATE INDEX IF NOT EXISTS ix_{events.name}_sender_id_id"
                    f" ON {events.name} (sender_id, id)"
                )
            )
        self.insert_rows = events.insert()

    def newest_id(
        self, sender_id: str, connection: sa.engine.Connection | None = None
    ) -> int | None:
        if connection is None:
            with self.engine.connect() as connection:
                return self.newest_id(sender_id, connection)
        return connection.execute(self.newest_query, {"sender_id": sender_id}).scalar()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        kept, newest = self.kept.pop(sender_id, None), self.newest_id(sender_id)
        if (
            kept is not None
            and kept.stored == len(kept.tracker.events)
            and kept.newest_id == newest
        ):
            tracker: DialogueStateTracker | None = kept.tracker
        else:
            tracker = await super().retrieve(sender_id)
        if tracker is not None:
            setattr(tracker, MARK, (len(tracker.events), newest))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        stored, newest_then = getattr(tracker, MARK, (None, None))
        if (
            stored is None
        ):  # a tracker this store did not hand out (a new conversation): Rasa's own way, then kept
            await self.save_counting(tracker)
            self.keep(tracker, self.newest_id(tracker.sender_id))
            return
        rows = [self.row(tracker.sender_id, event) for event in list(tracker.events)[stored:]]
        newest = newest_then
        with self.engine.begin() as connection:
            now_newest = self.newest_id(tracker.sender_id, connection)
            unchanged = now_newest == newest_then
            erased = now_newest is None and newest_then is not None
            if (unchanged or erased) and rows:
                connection.execute(self.insert_rows, rows)
                newest = self.newest_id(tracker.sender_id, connection)
        if erased:
            # the customer's conversation was erased while this turn ran: only the turn's own new
            # events are kept, never the erased ones this tracker still holds, and it is not kept
            delattr(tracker, MARK)
            self.kept.pop(tracker.sender_id, None)
            return
        if not unchanged:
            # written by someone else since this tracker was read: Rasa's own way (counts the rows),
            # and not kept,
            # because the table now holds events this tracker lacks
            await self.save_counting(tracker)
            delattr(tracker, MARK)
            self.kept.pop(tracker.sender_id, None)
            return
        await self.stream_events(tracker)
        self.keep(tracker, newest)

    async def save_counting(self, tracker: DialogueStateTracker) -> None:
        """`SQLTrackerStore.save`: insert the events beyond those the table holds for the session
        (sealed)."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = [
                self.row(tracker.sender_id, event)
                for event in self._additional_events(session, tracker)
            ]
            if rows:
                session.execute(self.insert_rows, rows)
            session.commit()

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """`SQLTrackerStore._retrieve`, opening each sealed event."""
        with self.session_scope() as session:
            rows = self._event_query(
                session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions
            ).all()
            events = [open_event(self.keyring, sender_id, row.data) for row in rows]
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    def row(self, sender_id: str, event: Any) -> dict[str, Any]:
        """One `events` row as `SQLTrackerStore.save` writes it, its `data` sealed."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": seal_event(self.keyring, sender_id, data),
        }

    def keep(self, tracker: DialogueStateTracker, newest_id: int | None) -> None:
        setattr(tracker, MARK, (len(tracker.events), newest_id))
        if (
            self.capacity <= 0
            or sum(isinstance(event, SessionStarted) for event in tracker.events) > 1
        ):
            self.kept.pop(tracker.sender_id, None)
            # a new session began in this tracker: read it back as Rasa does (the new session only)
            return
        self.kept[tracker.sender_id] = Kept(tracker, newest_id, len(tracker.events))
        self.kept.move_to_end(tracker.sender_id)
        while len(self.kept) > self.capacity:
            self.kept.popitem(last=False)


def reseal_all(engine: sa.engine.Engine, keyring: Keyring) -> int:
    """Re-seal, in batches, every row of the `events` table that is plain or sealed with an
    older key; returns how many rows changed. Safe to run while Rasa serves (rows are only
    rewritten in place, never added or removed) and to run again after an interruption."""
    events = sa.table("events", sa.column("id"), sa.column("sender_id"), sa.column("data"))
    changed, after = 0, 0
    while True:
        with engine.begin() as connection:
            rows = connection.execute(
                sa.select(events.c.id, events.c.sender_id, events.c.data)
                .where(events.c.id > after)
                .order_by(events.c.id)
                .limit(RESEAL_BATCH)
            ).all()
            for row_id, sender_id, stored in rows:
                fresh = reseal(keyring, sender_id, stored)
                if fresh is not None:
                    connection.execute(
                        events.update().where(events.c.id == row_id).values(data=fresh)
                    )
                    changed += 1
        if len(rows) < RESEAL_BATCH:
            return changed
        after = rows[-1][0]


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.tracker_store rotate-keys [--url URL]`."""
    parser = argparse.ArgumentParser(prog="python -m bot.tracker_store")
    parser.add_argument("command", choices=["rotate-keys"])
    parser.add_argument(
        "--url",
        default=tracker_store_url(),
        help=(
            "the tracker store's SQLAlchemy URL "
            "(default: TRACKER_STORE_URL, else where scripts/run_rasa.py puts it)"
        ),
    )
    args = parser.parse_args(argv)
    keyring = local_keyring()
    changed = reseal_all(sa.create_engine(args.url), keyring)
    print(f"tracker store: re-sealed {changed} event rows with key {keyring.current_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
