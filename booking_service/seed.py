"""Demo tenants, one per vertical, used by `make demo` and the tests.

Idempotent: a tenant that already exists is left as it is. The first run issues one API
token per tenant and stores them in `var/tenant-tokens.json` (mode 0600) for the demo.
"""

from __future__ import annotations

import json
import os
from datetime import time
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from booka_common.local_secrets import new_token, var_dir
from booking_service import repository as repo
from booking_service import tables as t
from booking_service.scheduler import to_minor

TUE_TO_FRI, TUE_TO_SAT, MON_TO_FRI, TUE_TO_SUN = range(1, 5), range(1, 6), range(0, 5), range(1, 7)


def week(days: range, start: str, end: str, kind: str = "open") -> list[dict[str, Any]]:
    return [
        {
            "weekday": d,
            "start_time": time.fromisoformat(start),
            "end_time": time.fromisoformat(end),
            "kind": kind,
        }
        for d in days
    ]


SALON = {
    "tenant": dict(
        slug="bella-salon",
        name="Bella Hair & Beauty",
        vertical="beauty",
        timezone="Europe/Lisbon",
        locale="en",
        country="PT",
        currency="EUR",
        evolution_instance="bella-salon",
        address="Rua de Santa Catarina 112, 4000-442 Porto, Portugal",
        phone="+351 222 000 111",
        slot_step_min=15,
        min_notice_min=60,
        max_horizon_days=60,
        cancel_cutoff_min=120,
        reschedule_cutoff_min=120,
        hold_ttl_s=300,
    ),
    "hours": week(TUE_TO_FRI, "09:00", "19:00") + week(range(5, 6), "09:00", "17:00"),
    "resources": [dict(name="Treatment room", kind="treatment-room", capacity=1)],
    "staff": {
        "Ana": dict(
            aliases=["Ana Silva", "Anna"],
            hours=week(TUE_TO_SAT, "09:00", "17:00") + week(TUE_TO_SAT, "13:00", "14:00", "break"),
        ),
        "João": dict(
            aliases=["Joao", "John", "João Costa"],
            hours=week(TUE_TO_SAT, "10:00", "19:00") + week(TUE_TO_SAT, "14:00", "15:00", "break"),
        ),
        "Maria": dict(
            aliases=["Maria Santos", "Mary"],
            hours=week(TUE_TO_FRI, "09:00", "18:00") + week(TUE_TO_FRI, "13:00", "14:00", "break"),
        ),
        "Sofia": dict(
            aliases=["Sophia", "Sofia Lima"],
            hours=week(range(2, 6), "11:00", "19:00")
            + week(range(2, 6), "15:00", "15:30", "break"),
        ),
    },
    "services": [
        dict(
            name="Women's haircut",
            aliases=[
                "haircut",
                "ladies cut",
                "womens cut",
                "cut and style",
                "corte",
                "corte de cabelo",
                "corte de senhora",
                "corte feminino",
                "corte de pelo",
                "corte de mujer",
            ],
            names={"pt": "Corte de senhora", "pt-BR": "Corte feminino", "es": "Corte de mujer"},
            duration_min=45,
            price="35",
            staff=["Ana", "João"],
        ),
        dict(
            name="Men's haircut",
            aliases=[
                "mens cut",
                "gents cut",
                "barber",
                "men's cut",
                "corte masculino",
                "corte de homem",
                "corte de caballero",
                "corte de hombre",
            ],
            names={"pt": "Corte de homem", "pt-BR": "Corte masculino", "es": "Corte de caballero"},
            duration_min=30,
            price="18",
            staff=["João", "Ana"],
        ),
        dict(
            name="Blow dry",
            aliases=["blowout", "blow-dry", "blowdry", "brushing", "escova", "secado", "peinado"],
            names={"pt": "Brushing", "pt-BR": "Escova", "es": "Peinado"},
            duration_min=30,
            price="20",
            staff=["Ana", "João", "Sofia"],
        ),
        dict(
            name="Hair colour",
            aliases=[
                "colour",
                "color",
                "hair color",
                "dye",
                "tint",
                "coloração",
                "pintar o cabelo",
                "pintura",
                "tinta",
                "tinte",
                "coloración",
            ],
            names={"pt": "Coloração", "es": "Tinte"},
            duration_min=90,
            price="65",
            buffer_after_min=15,
            staff=["Ana"],
        ),
        dict(
            name="Highlights",
            aliases=["balayage", "foils", "babylights", "madeixas", "luzes", "mechas", "reflejos"],
            names={"pt": "Madeixas", "pt-BR": "Luzes", "es": "Mechas"},
            duration_min=120,
            price="85",
            buffer_after_min=15,
            staff=["Ana"],
        ),
        dict(
            name="Manicure",
            aliases=["mani", "nails", "nail polish", "unhas", "manicura", "uñas"],
            names={"pt": "Manicure", "es": "Manicura"},
            duration_min=30,
            price="20",
            staff=["Maria", "Sofia"],
        ),
        dict(
            name="Pedicure",
            aliases=["pedi", "feet", "pedicura", "pés"],
            names={"pt": "Pedicure", "es": "Pedicura"},
            duration_min=45,
            price="28",
            staff=["Maria"],
        ),
        dict(
            name="Gel nails",
            aliases=[
                "gel manicure",
                "shellac",
                "gel polish",
                "unhas de gel",
                "gelinho",
                "uñas de gel",
                "semipermanente",
            ],
            names={"pt": "Unhas de gel", "es": "Uñas de gel"},
            duration_min=60,
            price="35",
            staff=["Maria"],
        ),
        dict(
            name="Eyebrow wax",
            aliases=[
                "brow wax",
                "eyebrows",
                "brows",
                "sobrancelhas",
                "depilação de sobrancelhas",
                "cejas",
                "depilación de cejas",
            ],
            names={
                "pt": "Depilação de sobrancelhas",
                "pt-BR": "Design de sobrancelhas",
                "es": "Depilación de cejas",
            },
            duration_min=15,
            price="12",
            staff=["Maria", "Sofia"],
        ),
        dict(
            name="Facial",
            aliases=[
                "facial treatment",
                "skin care",
                "face",
                "limpeza de pele",
                "tratamento de rosto",
                "limpieza facial",
                "tratamiento facial",
            ],
            names={"pt": "Limpeza de pele", "es": "Limpieza facial"},
            duration_min=60,
            price="50",
            buffer_after_min=10,
            resource_kind="treatment-room",
            staff=["Sofia"],
        ),
    ],
}

CLINIC = {
    "tenant": dict(
        slug="smile-dental",
        name="Smile Dental Clinic",
        vertical="clinic",
        timezone="America/New_York",
        locale="en-US",
        country="US",
        currency="USD",
        evolution_instance="smile-dental",
        address="245 Court St, Brooklyn, NY 11201, USA",
        phone="+1 718 555 0142",
        slot_step_min=15,
        min_notice_min=120,
        max_horizon_days=90,
        cancel_cutoff_min=1440,
        reschedule_cutoff_min=1440,
        hold_ttl_s=300,
    ),
    "hours": week(MON_TO_FRI, "08:00", "17:00") + week(MON_TO_FRI, "12:00", "13:00", "break"),
    "resources": [
        dict(name="Chair 1", kind="chair", capacity=1),
        dict(name="Chair 2", kind="chair", capacity=1),
    ],
    "staff": {
        "Dr. Emily Chen": dict(
            aliases=["Dr Chen", "Emily", "Chen"], hours=week(MON_TO_FRI, "08:00", "17:00")
        ),
        "Dr. Marcus Reed": dict(
            aliases=["Dr Reed", "Marcus", "Reed"], hours=week(range(0, 4), "09:00", "17:00")
        ),
        "Priya Patel": dict(
            aliases=["Priya", "hygienist"], hours=week(MON_TO_FRI, "08:00", "16:00")
        ),
    },
    "services": [
        dict(
            name="Check-up",
            aliases=[
                "checkup",
                "exam",
                "dental exam",
                "check up",
                "consulta de rotina",
                "revisão",
                "revisión",
                "chequeo",
            ],
            names={"pt": "Consulta de rotina", "es": "Revisión"},
            duration_min=30,
            price="95",
            buffer_after_min=10,
            resource_kind="chair",
            staff=["Dr. Emily Chen", "Dr. Marcus Reed"],
        ),
        dict(
            name="Cleaning",
            aliases=[
                "teeth cleaning",
                "hygiene",
                "scale and polish",
                "clean",
                "limpeza",
                "limpeza dentária",
                "destartarização",
                "limpieza",
                "limpieza dental",
            ],
            names={"pt": "Limpeza dentária", "es": "Limpieza dental"},
            duration_min=45,
            price="120",
            buffer_after_min=10,
            resource_kind="chair",
            staff=["Priya Patel"],
        ),
        dict(
            name="Filling",
            aliases=["cavity", "tooth filling", "obturação", "restauração", "empaste"],
            names={"pt": "Obturação", "pt-BR": "Restauração", "es": "Empaste"},
            duration_min=60,
            price="180",
            buffer_after_min=10,
            resource_kind="chair",
            staff=["Dr. Emily Chen", "Dr. Marcus Reed"],
        ),
        dict(
            name="Teeth whitening",
            aliases=["whitening", "bleaching", "branqueamento", "clareamento", "blanqueamiento"],
            names={"pt": "Branqueamento", "pt-BR": "Clareamento", "es": "Blanqueamiento"},
            duration_min=90,
            price="350",
            buffer_after_min=10,
            resource_kind="chair",
            staff=["Dr. Marcus Reed"],
        ),
        dict(
            name="Emergency visit",
            aliases=[
                "emergency",
                "toothache",
                "urgent",
                "urgência",
                "dor de dente",
                "urgencia",
                "dolor de muelas",
            ],
            names={"pt": "Urgência", "es": "Urgencia"},
            duration_min=30,
            price="150",
            buffer_after_min=10,
            resource_kind="chair",
            staff=["Dr. Emily Chen", "Dr. Marcus Reed"],
        ),
        dict(
            name="Consultation",
            aliases=[
                "consult",
                "new patient consultation",
                "consulta",
                "primeira consulta",
                "primera consulta",
            ],
            names={"pt": "Consulta", "es": "Consulta"},
            duration_min=20,
            price="0",
            resource_kind="chair",
            staff=["Dr. Emily Chen", "Dr. Marcus Reed"],
        ),
    ],
}

RESTAURANT = {
    "tenant": dict(
        slug="harbour-table",
        name="The Harbour Table",
        vertical="restaurant",
        timezone="Europe/London",
        locale="en-GB",
        country="GB",
        currency="GBP",
        evolution_instance="harbour-table",
        address="14 Quay Street, Bristol BS1 4DB, United Kingdom",
        phone="+44 117 496 0321",
        slot_step_min=30,
        min_notice_min=30,
        max_horizon_days=60,
        cancel_cutoff_min=60,
        reschedule_cutoff_min=60,
        hold_ttl_s=300,
    ),
    "hours": week(TUE_TO_SUN, "12:00", "15:00") + week(TUE_TO_SUN, "18:00", "23:00"),
    "resources": [
        dict(name=f"Table {n}", kind="table", capacity=cap)
        for n, cap in enumerate([2, 2, 2, 2, 4, 4, 4, 4, 6, 6, 10], start=1)
    ],
    "staff": {},
    "services": [
        dict(
            name="Lunch",
            aliases=["lunch table", "lunch reservation", "almoço", "comida", "almuerzo"],
            names={"pt": "Almoço", "es": "Comida"},
            duration_min=90,
            price="0",
            requires_staff=False,
            resource_kind="table",
            max_party_size=10,
            earliest_start=time(12),
            latest_start=time(13, 30),
            staff=[],
        ),
        dict(
            name="Dinner",
            aliases=[
                "dinner table",
                "table",
                "reservation",
                "dinner reservation",
                "jantar",
                "mesa",
                "reserva",
                "cena",
            ],
            names={"pt": "Jantar", "es": "Cena"},
            duration_min=120,
            price="0",
            requires_staff=False,
            resource_kind="table",
            max_party_size=10,
            earliest_start=time(18),
            latest_start=time(21),
            staff=[],
        ),
    ],
}

DEMO_TENANTS = (SALON, CLINIC, RESTAURANT)


async def seed_tenant(
    conn: AsyncConnection, spec: dict[str, Any]
) -> tuple[repo.Tenant, str | None]:
    """Create one demo tenant with its catalog; returns the tenant and a new token (None if it
    existed)."""
    existing = await repo.get_tenant(conn, spec["tenant"]["slug"])
    if existing is not None:
        return existing, None
    tenant = await repo.create_tenant(conn, spec["tenant"])
    for row in spec["hours"]:
        await repo.insert_row(conn, t.hours, tenant.id, {**row, "staff_id": None})
    for resource in spec["resources"]:
        await repo.insert_row(conn, t.resources, tenant.id, resource)
    staff_ids: dict[str, int] = {}
    for name, person in spec["staff"].items():
        staff_ids[name] = await repo.insert_row(
            conn, t.staff, tenant.id, {"name": name, "aliases": person["aliases"]}
        )
        for row in person["hours"]:
            await repo.insert_row(conn, t.hours, tenant.id, {**row, "staff_id": staff_ids[name]})
    for service in spec["services"]:
        values = {k: v for k, v in service.items() if k not in ("staff", "price")}
        values.update(
            currency=tenant.currency,
            price_minor=to_minor(Decimal(service["price"]), tenant.currency),
        )
        service_id = await repo.insert_row(conn, t.services, tenant.id, values)
        await repo.replace_skill_links(
            conn,
            tenant.id,
            service_id=service_id,
            others=[staff_ids[name] for name in service["staff"]],
        )
    token = new_token()
    await repo.store_token(conn, tenant.id, token, "demo")
    return tenant, token


async def seed_demo(engine: AsyncEngine) -> dict[str, str]:
    """Seed every demo tenant; returns {slug: token} for the tenants created now."""
    tokens: dict[str, str] = {}
    for spec in DEMO_TENANTS:
        async with engine.begin() as conn:
            tenant, token = await seed_tenant(conn, spec)
        if token:
            tokens[tenant.slug] = token
    if tokens:
        path = var_dir() / "tenant-tokens.json"
        known = json.loads(path.read_text()) if path.exists() else {}
        known.update(tokens)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(known, handle, indent=2)
    return tokens
