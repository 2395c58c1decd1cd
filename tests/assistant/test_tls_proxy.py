"""nginx in front, with the repository's configuration (docker/nginx/booka.conf.template)
and a self-signed certificate: a customer books over WhatsApp with the webhooks arriving
through HTTPS; the owners' web app and the booking API answer through it with the security
headers; plain HTTP is redirected (the ACME challenge aside); what must stay internal is
not reachable; oversized bodies are refused."""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.assistant.stack import Stack
from tests.assistant.tls_proxy import start_nginx
from tests.assistant.whatsapp import bookings_of, converse, new_number
from tests.ports import free_port


@pytest.fixture(scope="module")
def proxy(stack: Stack) -> Iterator[dict[str, Any]]:
    directory = stack.workdir / "nginx"
    acme = directory / "acme"
    (acme / ".well-known/acme-challenge").mkdir(parents=True)
    (acme / ".well-known/acme-challenge/token-1").write_text("token-1.thumbprint")
    ports = {"https": free_port(), "http": free_port()}
    process = start_nginx(
        directory,
        {
            "BOOKA_SERVER_NAME": "localhost",
            "BOOKA_HTTPS_PORT": str(ports["https"]),
            "BOOKA_HTTP_PORT": str(ports["http"]),
            "BOOKA_TLS_CERT": str(stack.workdir / "tls.crt"),
            "BOOKA_TLS_KEY": str(stack.workdir / "tls.key"),
            "BOOKA_ACME_ROOT": str(acme),
            "BOOKA_WEBHOOK_UPSTREAM": f"127.0.0.1:{stack.ports['gateway']}",
            "BOOKA_ADMIN_UPSTREAM": f"127.0.0.1:{stack.ports['admin']}",
            "BOOKA_BOOKING_UPSTREAM": f"127.0.0.1:{stack.ports['booking']}",
        },
    )
    try:
        yield {**ports, "certificate": stack.workdir / "tls.crt"}
    finally:
        process.terminate()
        process.wait(10)


def request(
    proxy: dict[str, Any],
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    secure: bool = True,
) -> tuple[int, dict[str, list[str]], bytes]:
    """One request to the proxy (verifying its certificate); status, headers, body."""
    if secure:
        context = ssl.create_default_context(cafile=str(proxy["certificate"]))
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            "localhost", proxy["https"], context=context, timeout=30
        )
    else:
        connection = http.client.HTTPConnection("127.0.0.1", proxy["http"], timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        found: dict[str, list[str]] = {}
        for name, value in answer.getheaders():
            found.setdefault(name.lower(), []).append(value)
        return answer.status, found, answer.read()
    finally:
        connection.close()


def test_a_customer_books_with_the_webhooks_arriving_through_https(
    stack: Stack, kiwi: str, proxy: dict[str, Any]
) -> None:
    stack.connect_whatsapp(
        kiwi, url=f"https://127.0.0.1:{proxy['https']}/webhooks/evolution/webhook"
    )
    number = new_number()
    weekday = "saturday"
    assert "name" in converse(stack, kiwi, number, f"haircut with ana on {weekday} at 10am")
    assert "Shall I book" in converse(stack, kiwi, number, "Tama Rua")
    assert "booked" in converse(stack, kiwi, number, "yes").lower()
    (booking,) = bookings_of(stack, kiwi, number)
    assert booking["customer"]["name"] == "Tama Rua"
    access = (Path(stack.workdir) / "nginx/access.log").read_text()
    assert access.count("POST /webhooks/evolution/webhook ") >= 3, "the webhooks went around it"


def test_the_web_app_and_the_booking_api_answer_with_security_headers(
    stack: Stack, kiwi: str, proxy: dict[str, Any]
) -> None:
    status, headers, page = request(proxy, "GET", "/login")
    assert status == 200 and b"<form" in page
    assert headers["strict-transport-security"] == ["max-age=63072000; includeSubDomains"]
    assert headers["x-content-type-options"] == ["nosniff"]
    assert headers["x-frame-options"] == ["DENY"], "set once, not doubled"
    assert headers["referrer-policy"] == ["same-origin"]
    assert "content-security-policy" in headers  # the web app's own
    assert "server" not in headers or headers["server"] == ["nginx"], "no version shown"
    status, issued = stack.booking_api("POST", f"/v1/tenants/{kiwi}/tokens?label=tls-test")
    assert status == 201, issued
    tenant_token = {"Authorization": f"Bearer {issued['token']}"}
    status, headers, body = request(proxy, "GET", f"/v1/tenants/{kiwi}", headers=tenant_token)
    assert status == 200 and json.loads(body)["slug"] == kiwi
    assert headers["strict-transport-security"]
    status, headers, _ = request(proxy, "GET", f"/v1/tenants/{kiwi}")
    assert status == 401 and headers["x-content-type-options"] == ["nosniff"]


def test_the_platforms_internal_token_is_refused_from_outside(
    stack: Stack, kiwi: str, proxy: dict[str, Any]
) -> None:
    internal = {"Authorization": f"Bearer {stack.token}", "X-Booka-Public": ""}
    status, _, body = request(proxy, "GET", f"/v1/tenants/{kiwi}", headers=internal)
    assert status == 403 and b"outside" in body, body
    assert stack.booking_api("GET", f"/v1/tenants/{kiwi}")[0] == 200, "inside, it still works"


def test_plain_http_is_redirected_except_the_acme_challenge(proxy: dict[str, Any]) -> None:
    status, headers, _ = request(proxy, "GET", "/login?next=%2F", secure=False)
    assert status == 301
    assert headers["location"] == [f"https://127.0.0.1:{proxy['https']}/login?next=%2F"]
    status, _, body = request(proxy, "GET", "/.well-known/acme-challenge/token-1", secure=False)
    assert (status, body) == (200, b"token-1.thumbprint")


def test_what_must_stay_internal_is_not_reachable(stack: Stack, proxy: dict[str, Any]) -> None:
    body = json.dumps({"key": "k", "phone": "64211234567", "text": "hi"}).encode()
    auth = {"Authorization": f"Bearer {stack.token}", "Content-Type": "application/json"}
    status, _, _ = request(proxy, "POST", "/webhooks/evolution/outreach", body, auth)
    assert status == 404, "the outreach route is for the worker on the internal network"
    for path in ("/webhooks/dev/webhook", "/webhooks/rest/webhook"):
        status, _, _ = request(proxy, "POST", path, b"{}", auth)
        assert status == 404, path
    # anything else is the web app's: Rasa's HTTP API is not routed
    status, headers, _ = request(
        proxy, "GET", "/conversations/x/tracker", headers={"Authorization": "Bearer x"}
    )
    assert status == 303 and headers["location"][0].startswith("/login"), (status, headers)
    status, _, body = request(proxy, "POST", "/model/parse", b'{"text": "hi"}')
    assert status >= 300 and b"intent" not in body, (status, body[:200])


def test_oversized_bodies_are_refused(stack: Stack, kiwi: str, proxy: dict[str, Any]) -> None:
    big = b"x" * (2 * 1024 * 1024)
    status, _, _ = request(
        proxy,
        "POST",
        f"/v1/tenants/{kiwi}/services",
        big,
        {"Authorization": f"Bearer {stack.token}", "Content-Type": "application/json"},
    )
    assert status == 413
    status, _, _ = request(
        proxy,
        "POST",
        "/webhooks/evolution/webhook",
        b"x" * (10 * 1024 * 1024),
        {"Content-Type": "application/json"},
    )
    assert status == 413
