"""Tenant isolation, authentication, and customer data encrypted at rest."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import select, text

from booking_service import tables as t
from booking_service.database import make_sync_engine
from booking_service.repository import sealed_context
from tests.booking_service.helpers import Api, booking_body, future_day, new_tenant
from tests.conftest import ROOT


async def tenant_token(api: Api, slug: str) -> str:
    _, issued = await api.call("POST", f"/v1/tenants/{slug}/tokens?label=test", expect=201)
    return issued["token"]


async def test_a_tenant_token_never_reaches_another_tenants_data(api: Api):
    a, b = await new_tenant(api), await new_tenant(api)
    token_a = await tenant_token(api, a.slug)
    _, booking = await api.call(
        "POST",
        f"{b.base}/bookings",
        booking_body(b, b.at(future_day(b.tz), 10)),
        Idempotency_Key="b1",
        expect=201,
    )
    probes = [
        ("GET", b.base, None),
        ("PATCH", b.base, {"name": "mine now"}),
        ("GET", f"{b.base}/services", None),
        ("POST", f"{b.base}/staff", {"name": "Intruder"}),
        ("GET", f"{b.base}/services/{b.services['Haircut']}", None),
        ("DELETE", f"{b.base}/staff/{b.staff['Ana']}", None),
        ("GET", f"{b.base}/availability?service=Haircut", None),
        ("GET", f"{b.base}/bookings?phone=%2B351912000001", None),
        ("GET", f"{b.base}/bookings/{booking['id']}", None),
        ("GET", f"{b.base}/bookings/{booking['id']}.ics", None),
        ("POST", f"{b.base}/bookings/{booking['id']}/cancel", {}),
        ("POST", f"{b.base}/bookings", booking_body(b, b.at(future_day(b.tz), 11))),
    ]
    for method, path, body in probes:
        status, error = await api.call(method, path, body, token=token_a, Idempotency_Key="x")
        assert status == 404, (method, path, status, error)
    _, own = await api.call("GET", "/v1/tenants", token=token_a, expect=200)
    assert [tenant["slug"] for tenant in own["tenants"]] == [a.slug]
    await api.call("GET", f"{a.base}/services", token=token_a, expect=200)
    _, still = await api.call("GET", f"{b.base}/bookings/{booking['id']}", expect=200)
    assert still["status"] == "confirmed"


async def test_a_tenant_token_cannot_act_as_the_platform(api: Api, salon):  # noqa: ANN001
    token = await tenant_token(api, salon.slug)
    status, _ = await api.call("POST", "/v1/tenants", {"slug": "sneaky"}, token=token)
    assert status == 403
    status, _ = await api.call("POST", f"{salon.base}/tokens", token=token)
    assert status == 403
    status, _ = await api.call("PATCH", salon.base, {"suspended": False}, token=token)
    assert status == 403


async def test_requests_without_a_valid_token_are_refused(api: Api, salon):  # noqa: ANN001
    assert (await api.client.get(f"{salon.base}/services")).status == 401
    status, error = await api.call("GET", f"{salon.base}/services", token="not-a-token")
    assert status == 401 and "not valid" in error["message"]
    for public in ("/api/health", "/api/ready", "/openapi.json"):
        assert (await api.client.get(public)).status == 200


async def test_a_suspended_tenant_takes_no_bookings(api: Api, salon):  # noqa: ANN001
    await api.call("PATCH", salon.base, {"suspended": True}, expect=200)
    status, error = await api.call(
        "POST",
        f"{salon.base}/bookings",
        booking_body(salon, salon.at(future_day(salon.tz), 10)),
        Idempotency_Key="s",
    )
    assert status == 403 and error["error"] == "tenant_suspended"


async def test_customer_details_are_encrypted_at_rest(api: Api, salon, settings):  # noqa: ANN001
    body = booking_body(salon, salon.at(future_day(salon.tz), 10), phone="+351919876543")
    body["customer"].update(name="Beatriz Marques", email="beatriz@example.pt")
    body["notes"] = "allergic to latex, ring Mrs Quintela first"
    _, booking = await api.call(
        "POST", f"{salon.base}/bookings", body, Idempotency_Key="enc", expect=201
    )
    assert booking["notes"] == body["notes"]
    _, again = await api.call("GET", f"{salon.base}/bookings/{booking['id']}", expect=200)
    assert again["notes"] == body["notes"], "sealed notes read back"
    await api.call(
        "POST",
        f"{salon.base}/bookings/{booking['id']}/cancel",
        {"reason": "Beatriz has shingles"},
        expect=200,
    )
    _, cancelled = await api.call("GET", f"{salon.base}/bookings/{booking['id']}", expect=200)
    assert cancelled["history"][-1]["after"]["reason"] == "Beatriz has shingles", (
        "the sealed reason reads back"
    )
    engine = make_sync_engine(settings.database_url)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(t.customers))]
        bookings = [dict(r._mapping) for r in conn.execute(select(t.bookings))]
        history = [dict(r._mapping) for r in conn.execute(select(t.booking_events))]
    engine.dispose()
    stored = " ".join(str(value) for row in rows + bookings + history for value in row.values())
    for secret in ("919876543", "Beatriz", "beatriz@example.pt", "latex", "Quintela", "shingles"):
        assert secret not in stored
    mine = [row for row in rows if row["phone_enc"].startswith("k1:")]
    assert mine and all(len(row["phone_hash"]) == 64 for row in mine)


def test_rotate_keys_reseals_every_value_and_data_stays_readable(sqlite_url, secret_spec, tmp_path):  # noqa: ANN001
    import asyncio

    from booka_common.crypto import Keyring, generate_keyring_spec
    from booking_service.database import make_async_engine
    from tests.conftest import make_settings

    newer = generate_keyring_spec()
    rotated_spec = {
        **secret_spec,
        "BOOKA_SECRET_KEYS": f"{newer},{secret_spec['BOOKA_SECRET_KEYS']}",
    }
    env = {
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": sqlite_url,
        "BOOKA_VAR_DIR": str(tmp_path),
        **rotated_spec,
    }
    # Make sure there is a customer sealed with the old key first.
    settings = make_settings(sqlite_url, secret_spec)

    async def add_customer() -> None:
        from booking_service import repository as repo
        from booking_service.schemas import CustomerIn
        from booking_service.seed import SALON, seed_tenant

        engine = make_async_engine(settings)
        async with engine.begin() as conn:
            tenant, _ = await seed_tenant(conn, SALON)
            await repo.upsert_customer(
                conn,
                repo.Crypto(settings.keyring, settings.lookup_key.encode()),
                tenant,
                CustomerIn(phone="+351910000777", name="Old Key"),
            )
            await conn.execute(
                text(  # a booking whose notes were written before notes were sealed
                    "INSERT INTO bookings (id, tenant_id, service_id, status, starts_at, ends_at,"
                    " block_start, block_end, party_size, price_minor, currency, notes, created_by,"
                    " created_at, updated_at) SELECT 'legacy-notes', tenant_id, id, 'cancelled',"
                    " '2030-01-01 10:00:00', '2030-01-01 10:30:00', '2030-01-01 10:00:00',"
                    " '2030-01-01 10:30:00', 1, 0, 'EUR', 'plain old note', 'api', '2026-01-01"
                    " 00:00:00', '2026-01-01 00:00:00' FROM services LIMIT 1"
                )
            )
            await conn.execute(
                text(  # and its history, with a reason written before reasons were sealed
                    "INSERT INTO booking_events (booking_id, tenant_id, at, action, actor, after)"
                    " SELECT 'legacy-notes', tenant_id, '2026-01-01 00:00:00', 'cancelled', 'api',"
                    ' \'{"status": "cancelled", "reason": "flu"}\' FROM bookings WHERE id ='
                    " 'legacy-notes'"
                )
            )
        await engine.dispose()

    asyncio.run(add_customer())
    result = subprocess.run(
        [sys.executable, "-m", "booking_service", "rotate-keys"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "re-encrypted" in result.stdout
    keyring = Keyring.parse(rotated_spec["BOOKA_SECRET_KEYS"])
    engine = make_sync_engine(sqlite_url)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(t.customers))]
        legacy = dict(
            conn.execute(select(t.bookings).where(t.bookings.c.id == "legacy-notes")).one()._mapping
        )
        event_after = conn.execute(
            select(t.booking_events.c.after).where(t.booking_events.c.booking_id == "legacy-notes")
        ).scalar_one()
    engine.dispose()
    assert rows and all(not keyring.needs_rotation(row["phone_enc"]) for row in rows)
    opened = {
        keyring.decrypt(row["name_enc"], sealed_context(row["tenant_id"], "name"))
        for row in rows
        if row["name_enc"]
    }
    assert "Old Key" in opened
    assert (
        legacy["notes"] == ""
        and keyring.decrypt(legacy["notes_enc"], f"bookings.notes:{legacy['tenant_id']}")
        == "plain old note"
    )
    assert (
        "reason" not in event_after
        and keyring.decrypt(
            event_after["reason_enc"], f"booking_events.reason:{legacy['tenant_id']}"
        )
        == "flu"
    )


async def test_logs_carry_no_phone_numbers_or_tokens(api: Api, salon, capsys):  # noqa: ANN001
    capsys.readouterr()
    await api.call("GET", f"{salon.base}/bookings?phone=%2B351912345678", expect=200)
    body = booking_body(salon, salon.at(future_day(salon.tz), 10), phone="+351912345678")
    await api.call("POST", f"{salon.base}/bookings", body, Idempotency_Key="log", expect=201)
    output = capsys.readouterr().out
    assert "request" in output
    assert "912345678" not in output and api.token not in output


async def test_text_with_a_nul_character_is_a_clear_422_on_every_database(api: Api, salon):  # noqa: ANN001
    status, error = await api.call("PATCH", salon.base, {"name": "Salon\x00Rosa"})
    assert status == 422 and error["fields"] == {"name": "text cannot contain NUL characters"}
    body = booking_body(salon, salon.at(future_day(salon.tz), 10))
    body["customer"]["name"] = "Rita\x00"
    status, error = await api.call("POST", f"{salon.base}/bookings", body, Idempotency_Key="nul")
    assert status == 422 and "customer.name" in error["fields"]
