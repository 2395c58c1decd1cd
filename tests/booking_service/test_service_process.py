"""The service as a process: refuses an unmigrated database, health, readiness, OpenAPI, seed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request

import pytest

from booking_service.api import ROUTES
from booking_service.openapi import openapi_document
from tests.conftest import ROOT, service_env
from tests.ports import free_port


def test_the_service_refuses_to_start_on_an_unmigrated_database(tmp_path, secret_spec):
    env = service_env(f"sqlite:///{tmp_path / 'empty.sqlite3'}", secret_spec, tmp_path, free_port())
    result = subprocess.run(
        [sys.executable, "-m", "booking_service", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "not migrated" in result.stderr and "booking_service migrate" in result.stderr


@pytest.mark.slow
def test_health_ready_and_openapi_over_http(service_process, postgres_url):
    base = service_process(postgres_url)
    for path in ("/api/health", "/api/ready"):
        with urllib.request.urlopen(base + path) as response:
            assert response.status == 200 and json.load(response)["status"] in ("ok", "ready")
    with urllib.request.urlopen(base + "/openapi.json") as response:
        document = json.load(response)
    assert (
        document["openapi"].startswith("3.")
        and "/v1/tenants/{tenant}/bookings" in document["paths"]
    )


def test_the_openapi_document_lists_every_served_route_and_the_architecture_contract():
    document = openapi_document(ROUTES)
    served = {
        (route.method.lower(), re.sub(r"{(\w+):[^}]+}", r"{\1}", route.path)) for route in ROUTES
    }
    documented = {
        (method, path) for path, operations in document["paths"].items() for method in operations
    }
    assert served == documented
    contract = {  # shared/ARCHITECTURE.md, "Booking service API"
        ("get", "/v1/tenants"),
        ("get", "/v1/tenants/{tenant}/availability"),
        ("post", "/v1/tenants/{tenant}/bookings"),
        ("get", "/v1/tenants/{tenant}/bookings"),
        ("get", "/v1/tenants/{tenant}/bookings/{id}"),
        ("post", "/v1/tenants/{tenant}/bookings/{id}/reschedule"),
        ("post", "/v1/tenants/{tenant}/bookings/{id}/cancel"),
        ("get", "/v1/tenants/{tenant}/bookings/{id}.ics"),
        ("get", "/api/health"),
        ("get", "/api/ready"),
    }
    assert contract <= documented
    booking = document["paths"]["/v1/tenants/{tenant}/bookings"]["post"]
    assert {"201", "409", "422"} <= set(booking["responses"])
    assert (
        booking["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        == "#/components/schemas/BookingCreate"
    )
    collection = next(
        p
        for p in document["paths"]["/v1/tenants/{tenant}/{collection}"]["get"]["parameters"]
        if p["name"] == "collection"
    )
    assert collection["schema"]["enum"] == ["services", "staff", "resources", "hours", "time-off"]


def test_seed_creates_three_verticals_once(tmp_path, secret_spec):
    env = service_env(f"sqlite:///{tmp_path / 'seed.sqlite3'}", secret_spec, tmp_path, free_port())

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "booking_service", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert run("migrate").returncode == 0
    first = run("seed")
    assert first.returncode == 0 and first.stdout.count("seeded tenant") == 3
    assert "already present" in run("seed").stdout
    tokens = json.loads((tmp_path / "tenant-tokens.json").read_text())
    assert set(tokens) == {"bella-salon", "smile-dental", "harbour-table"}
    assert oct((tmp_path / "tenant-tokens.json").stat().st_mode & 0o777) == "0o600"
