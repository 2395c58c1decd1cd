"""docker-compose.yml as `docker-compose config -q` reads it (no Docker engine needed): valid,
with every secret required, replicas for the processes that scale, the inbound log's server,
and nothing but nginx published to the world."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"


def required_variables() -> set[str]:
    return set(re.findall(r"\$\{([A-Z_]+):\?", COMPOSE.read_text()))


def config(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is not installed: run scripts/install-deploy-tools")
    clean = {k: v for k, v in os.environ.items() if k not in required_variables()}
    return subprocess.run(
        [binary, "-f", str(COMPOSE), "config"],
        cwd=ROOT,
        env={**clean, **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_file_is_valid_and_scales_behind_nginx() -> None:
    given = {name: f"value-of-{name.lower()}" for name in required_variables()}
    given["BOOKA_DOMAIN"] = "booka.example.com"
    result = config(given)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    for name in ("rasa", "webhooks", "action-server", "booking-service", "outreach"):
        assert services[name]["deploy"]["replicas"] >= 2, name
    gateway = services["webhooks"]
    assert gateway["command"][:3] == ["python", "-m", "connectors.gateway"]
    assert (
        gateway["environment"]["INBOUND_LOG_URL"]
        == services["rasa"]["environment"]["INBOUND_LOG_URL"]
    ), "the gateway appends to the log the Rasa replicas consume"
    assert "nats" in services and services["rasa"]["environment"]["INBOUND_LOG_URL"].startswith(
        "nats://"
    )
    assert "REDIS_URL" in services["rasa"]["environment"], "Rasa's lock store across replicas"
    published = {
        name: [str(p.get("published", p)) if isinstance(p, dict) else str(p) for p in spec["ports"]]
        for name, spec in services.items()
        if spec.get("ports")
    }
    assert set(published) <= {"nginx", "evolution-api"}, published
    assert all("127.0.0.1" in p for p in published.get("evolution-api", [])), published
    nginx = services["nginx"]
    assert nginx["environment"]["BOOKA_TLS_CERT"].endswith("/live/booka.example.com/fullchain.pem")
    assert any("booka.conf.template" in str(v) for v in nginx["volumes"])
    assert nginx["environment"]["BOOKA_WEBHOOK_UPSTREAM"] == "webhooks:5006"


def test_a_missing_secret_is_named() -> None:
    given = {name: "x" for name in required_variables() if name != "BOOKA_SECRET_KEYS"}
    result = config(given)
    assert result.returncode != 0 and "BOOKA_SECRET_KEYS" in result.stderr, result.stderr
