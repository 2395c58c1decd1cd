"""The outreach tables on both databases: a purpose is planned once however often the same
change is read, one worker only wins a message, a claim left by a worker that died is taken
over once it is stale, and a moved booking's old reminders are cancelled."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

from booka_common.crypto import Keyring, generate_keyring_spec
from outreach import store
from outreach.migrate import CHAIN
from outreach.planning import Planned
from services_common.sql import make_async_engine


def customer_of(booking_id: str) -> store.Recipient:
    return store.Recipient("store-test", "store-test", "+351912000001", booking_id)


def planned(key: str, kind: str = "reminder") -> Planned:
    return Planned(key, kind, datetime.now(timezone.utc) + timedelta(hours=1), {"offset_min": 60})


async def test_planned_once_claimed_once_and_stale_claims_taken_over(
    database_url: str, secret_spec: dict[str, str]
) -> None:
    CHAIN.upgrade(database_url)
    engine, keyring = (
        make_async_engine(database_url),
        Keyring.parse(secret_spec["BOOKA_SECRET_KEYS"]),
    )
    booking_id = f"b-{datetime.now().timestamp()}"
    try:
        async with engine.begin() as conn:
            first = await store.plan(
                conn, keyring, customer_of(booking_id), [planned(f"r:{booking_id}:1")]
            )
        async with engine.begin() as conn:
            again = await store.plan(
                conn, keyring, customer_of(booking_id), [planned(f"r:{booking_id}:1")]
            )
        assert len(first) == 1 and again == []
        [(message_id, _)] = first

        async def claim_once() -> object:
            async with engine.begin() as conn:
                return await store.claim(
                    conn, message_id, datetime.now(timezone.utc), timedelta(minutes=2)
                )

        claims = await asyncio.gather(*(claim_once() for _ in range(8)))
        assert sum(claim is not None for claim in claims) == 1, "one worker sends it"
        later = datetime.now(timezone.utc) + timedelta(minutes=3)
        async with engine.begin() as conn:
            taken_over = await store.claim(conn, message_id, later, timedelta(minutes=2))
        assert taken_over is not None and taken_over["attempts"] == 2
        assert (
            keyring.decrypt(taken_over["phone_enc"], store.phone_context("store-test"))
            == "+351912000001"
        )

        async with engine.begin() as conn:
            await store.plan(
                conn,
                keyring,
                customer_of(booking_id),
                [planned(f"r:{booking_id}:2"), planned(f"r:{booking_id}:3")],
            )
            assert await store.cancel_reminders(conn, booking_id, [f"r:{booking_id}:3"]) == 1
            rows = await store.listing(conn, "store-test", ["scheduled", "cancelled"], 50)
        mine = {row["id"]: row["status"] for row in rows if row["booking_id"] == booking_id}
        assert sorted(mine.values()) == ["cancelled", "scheduled"]
    finally:
        await engine.dispose()


async def test_the_daily_cap_counts_what_one_customer_and_one_business_were_sent(
    database_url: str, secret_spec: dict[str, str]
) -> None:
    CHAIN.upgrade(database_url)
    engine, keyring = (
        make_async_engine(database_url),
        Keyring.parse(secret_spec["BOOKA_SECRET_KEYS"]),
    )
    tenant, since = f"cap-{uuid.uuid4().hex[:8]}", datetime.now(timezone.utc) - timedelta(hours=1)
    pat = store.Recipient(tenant, tenant, "+351912000001", "b-1", phone_key=f"k-{tenant}-pat")
    kim = store.Recipient(tenant, tenant, "+351912000002", "b-2", phone_key=f"k-{tenant}-kim")
    try:
        async with engine.begin() as conn:
            sent = [
                *await store.plan(
                    conn, keyring, pat, [planned(f"{tenant}:1"), planned(f"{tenant}:2")]
                ),
                *await store.plan(conn, keyring, kim, [planned(f"{tenant}:3")]),
                *await store.plan(conn, keyring, pat, [planned(f"{tenant}:4", "booking_changed")]),
            ]
            for message_id, _ in sent:
                await store.finish(conn, message_id, "sent")
            await store.plan(conn, keyring, pat, [planned(f"{tenant}:5")])  # not sent yet
            assert await store.sent_since(conn, tenant, pat.phone_key, since) == (2, 3)
            assert await store.sent_since(conn, tenant, kim.phone_key, since) == (1, 3)
            later = datetime.now(timezone.utc) + timedelta(minutes=1)
            assert await store.sent_since(conn, tenant, pat.phone_key, later) == (0, 0)
    finally:
        await engine.dispose()


async def test_rotating_keys_reseals_the_kept_phones_with_the_newest_key(
    database_url: str, secret_spec: dict[str, str]
) -> None:
    CHAIN.upgrade(database_url)
    old = Keyring.parse(secret_spec["BOOKA_SECRET_KEYS"])
    both = Keyring.parse(f"{generate_keyring_spec()},{secret_spec['BOOKA_SECRET_KEYS']}")
    engine, tenant = make_async_engine(database_url), f"keys-{uuid.uuid4().hex[:8]}"
    try:
        async with engine.begin() as conn:
            [(message_id, _)] = await store.plan(
                conn,
                old,
                store.Recipient(tenant, tenant, "+351912000009", "b-9"),
                [planned(f"{tenant}:1")],
            )
        after_id, resealed = message_id - 1, 0
        while True:
            async with engine.begin() as conn:
                last, count = await store.reseal_phones(conn, both, after_id, 50)
            if not last:
                break
            after_id, resealed = last, resealed + count
        assert resealed >= 1
        async with engine.begin() as conn:
            [row] = [r for r in await store.listing(conn, tenant, None, 5)]
            claimed = await store.claim(
                conn, row["id"], datetime.now(timezone.utc), timedelta(minutes=2)
            )
        assert not both.needs_rotation(claimed["phone_enc"])
        assert both.decrypt(claimed["phone_enc"], store.phone_context(tenant)) == "+351912000009"
    finally:
        await engine.dispose()
