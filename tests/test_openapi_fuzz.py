"""Schemathesis over both OpenAPI documents (the booking service's and the tenant engine's):
requests generated from each operation's schema, valid and not, sent to real processes on
loopback ports with the internal token, must never get a 5xx. The LLM provider is the
loopback one (tests/fakes), so the engine's LLM routes have a provider to call. Bounded:
EXAMPLES per operation, derandomised so that every run sends the same requests. Half the
cases name a real business in `{tenant}`, so they reach past the tenant check."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from tests.conftest import ROOT, service_env, wait_until_ready
from tests.ports import free_port

EXAMPLES = int(os.environ.get("BOOKA_FUZZ_EXAMPLES", "12"))
TENANT = "bella-salon"  # a demo tenant (`booking_service seed`)


@pytest.fixture(scope="module")
def services(
    postgres_url: str, secret_spec: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """The booking service, the Evolution sandbox, a loopback LLM and the tenant engine as
    processes, seeded."""
    workdir = tmp_path_factory.mktemp("fuzz")
    ports = {name: free_port() for name in ("booking", "sandbox", "llm", "engine")}
    env = {
        **service_env(postgres_url, secret_spec, workdir, ports["booking"]),
        "BOOKING_SERVICE_URL": f"http://127.0.0.1:{ports['booking']}",
        "TENANT_ENGINE_PORT": str(ports["engine"]),
        "EVOLUTION_API_URL": f"http://127.0.0.1:{ports['sandbox']}",
        "BOOKING_RATE_LIMIT_PER_MINUTE": "100000",
        "LLM_BASE_URL": f"http://127.0.0.1:{ports['llm']}/v1",
        "LLM_MODEL": "gpt-4o-mini",
        "LLM_API_KEY": "sk-fuzz",
    }
    subprocess.run(
        [sys.executable, "-m", "booking_service", "seed"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "-m", "tenant_engine", "migrate"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    commands = {
        "booking": ["booking_service", "serve", "--port", str(ports["booking"])],
        "sandbox": ["evolution_sandbox", "--port", str(ports["sandbox"])],
        "llm": ["tests.fakes.openai_server", "--port", str(ports["llm"]), "--api-key", "sk-fuzz"],
        "engine": ["tenant_engine", "serve", "--port", str(ports["engine"])],
    }
    processes = []
    try:
        for name, command in commands.items():
            log = open(workdir / f"{name}.log", "wb")
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", *command],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            ready = "/_fake/requests" if name == "llm" else "/api/ready"
            wait_until_ready(f"http://127.0.0.1:{ports[name]}{ready}", processes[-1])
        yield {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)


@pytest.mark.parametrize("service", ["booking", "engine"])
def test_no_generated_request_gets_a_server_error(
    services: dict[str, str], secret_spec: dict[str, str], service: str
) -> None:
    base = services[service]
    schema = schemathesis.openapi.from_url(base + "/openapi.json")
    headers = {"Authorization": f"Bearer {secret_spec['BOOKA_INTERNAL_TOKEN']}"}
    sent: list[int] = []
    errors: list[str] = []

    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def send(case: schemathesis.Case) -> None:
            if case.path_parameters and "tenant" in case.path_parameters and len(sent) % 2 == 0:
                case.path_parameters["tenant"] = TENANT
            response = case.call(base_url=base, headers=headers, timeout=20)
            sent.append(response.status_code)
            if response.status_code >= 500:
                errors.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}"
                    f" {response.text[:200]}"
                )

        send()
    print(
        f"\n{service}: {len(sent)} generated requests over {len(list(schema.get_all_operations()))}"
        f" operations, {len(errors)} answered 5xx"
    )
    assert sent and errors == [], "\n".join(errors[:20])
