"""Fixtures shared by all tests: real databases (PostgreSQL and SQLite), settings, servers."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from booking_service.migrate import upgrade_to_head
from booking_service.settings import Settings
from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run, dropped afterwards."""
    name = f"booka_test_{uuid.uuid4().hex[:10]}"
    admin_conninfo = ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(admin_conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is required for the tests ({ADMIN_URL}): {exc}. Run scripts/services-up."
        )
    url = admin_conninfo.rsplit("/", 1)[0] + f"/{name}"
    upgrade_to_head(url)
    yield url
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'booka.sqlite3'}"
    upgrade_to_head(url)
    return url


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs on both backends."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(scope="session")
def secret_spec() -> dict[str, str]:
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return {
        "BOOKA_INTERNAL_TOKEN": secrets.token_urlsafe(24),
        "BOOKA_SECRET_KEYS": f"k1:{key}",
        "BOOKA_LOOKUP_KEY": secrets.token_hex(32),
    }


def make_settings(database_url: str, secret_spec: dict[str, str], port: int = 8001) -> Settings:
    return Settings(
        database_url=database_url,
        internal_token=secret_spec["BOOKA_INTERNAL_TOKEN"],
        secret_keys_spec=secret_spec["BOOKA_SECRET_KEYS"],
        lookup_key=secret_spec["BOOKA_LOOKUP_KEY"],
        public_url=f"http://127.0.0.1:{port}",
        port=port,
    )


@pytest.fixture
def settings(database_url: str, secret_spec: dict[str, str]) -> Settings:
    return make_settings(database_url, secret_spec)


def service_env(
    database_url: str, secret_spec: dict[str, str], var_dir: Path, port: int
) -> dict[str, str]:
    return {
        **os.environ,
        **secret_spec,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "BOOKA_VAR_DIR": str(var_dir),
        "BOOKING_SERVICE_PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }


def wait_until_ready(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout}s")


@pytest.fixture
def service_process(tmp_path: Path, secret_spec: dict[str, str]):
    """Start `python -m booking_service serve` on a loopback port against a given database."""
    started: list[subprocess.Popen] = []

    def start(database_url: str, workers: int = 1) -> str:
        port = free_port()
        log = open(tmp_path / f"service-{port}.log", "wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "booking_service",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            cwd=ROOT,
            env=service_env(database_url, secret_spec, tmp_path, port),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        base = f"http://127.0.0.1:{port}"
        wait_until_ready(base + "/api/ready", process)
        return base

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)
