"""The database itself refuses overlapping active bookings, whatever code path writes them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from booking_service import tables as t
from booking_service.database import make_sync_engine

START = datetime(2030, 5, 6, 10, tzinfo=timezone.utc)


def seed_minimal(conn) -> tuple[int, int, int]:  # noqa: ANN001
    slug = f"db-{uuid.uuid4().hex[:8]}"
    tenant_id = conn.execute(
        insert(t.tenants)
        .values(
            slug=slug,
            name=slug,
            vertical="beauty",
            timezone="UTC",
            locale="en",
            country="PT",
            currency="EUR",
            evolution_instance=slug,
            address="",
            phone="",
            slot_step_min=15,
            min_notice_min=0,
            max_horizon_days=60,
            cancel_cutoff_min=0,
            reschedule_cutoff_min=0,
            hold_ttl_s=60,
            suspended=False,
            created_at=START,
        )
        .returning(t.tenants.c.id)
    ).scalar_one()
    staff_id = conn.execute(
        insert(t.staff)
        .values(tenant_id=tenant_id, name="Ana", aliases=[], active=True)
        .returning(t.staff.c.id)
    ).scalar_one()
    service_id = conn.execute(
        insert(t.services)
        .values(
            tenant_id=tenant_id,
            name="Cut",
            aliases=[],
            description="",
            duration_min=60,
            price_minor=0,
            currency="EUR",
            buffer_before_min=0,
            buffer_after_min=0,
            requires_staff=True,
            max_party_size=1,
            active=True,
        )
        .returning(t.services.c.id)
    ).scalar_one()
    return tenant_id, staff_id, service_id


def booking_row(
    tenant_id: int,
    staff_id: int,
    service_id: int,
    start: datetime,
    status: str = "confirmed",
    buffer: int = 0,
) -> dict:
    return dict(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        service_id=service_id,
        staff_id=staff_id,
        status=status,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        block_start=start,
        block_end=start + timedelta(hours=1, minutes=buffer),
        party_size=1,
        price_minor=0,
        currency="EUR",
        notes="",
        created_by="api",
        created_at=START,
        updated_at=START,
        hold_expires_at=START + timedelta(days=3650) if status == "held" else None,
    )


@pytest.mark.parametrize(
    "second_start, second_status, buffer",
    [
        (START, "confirmed", 0),
        (START + timedelta(minutes=30), "held", 0),
        (START + timedelta(minutes=60), "confirmed", 15),
    ],
    ids=["same-time", "hold-overlapping", "inside-the-buffer"],
)
def test_postgres_refuses_an_overlapping_row_written_by_plain_sql(
    postgres_url, second_start, second_status, buffer
):
    engine = make_sync_engine(postgres_url)
    with engine.begin() as conn:
        ids = seed_minimal(conn)
        conn.execute(insert(t.bookings).values(**booking_row(*ids, START, buffer=buffer)))
    with pytest.raises(IntegrityError, match="ex_bookings_staff_id_overlap"):
        with engine.begin() as conn:
            conn.execute(
                insert(t.bookings).values(**booking_row(*ids, second_start, second_status))
            )
    engine.dispose()


def test_postgres_lets_cancelled_bookings_and_adjacent_times_coexist(postgres_url):
    engine = make_sync_engine(postgres_url)
    with engine.begin() as conn:
        ids = seed_minimal(conn)
        conn.execute(insert(t.bookings).values(**booking_row(*ids, START, status="cancelled")))
        conn.execute(insert(t.bookings).values(**booking_row(*ids, START)))
        conn.execute(insert(t.bookings).values(**booking_row(*ids, START + timedelta(hours=1))))
    engine.dispose()
