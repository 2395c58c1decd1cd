"""The owners' web app as a signed-in owner uses it, for the tests that drive the running
product through it (plain HTTP with the session's cookie and the forms' CSRF tokens)."""

from __future__ import annotations

import http.cookiejar
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

from tests.assistant.stack import ROOT, Stack
from tests.assistant.whatsapp import new_number

PASSWORD = "owner password 123"


class Browser:
    """A signed-in web session (cookies kept) against the admin app."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> tuple[int, str]:
        return self.send(urllib.request.Request(self.base + path))

    def post(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        return self.send(
            urllib.request.Request(
                self.base + path, data=urllib.parse.urlencode(form).encode(), method="POST"
            )
        )

    def send(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def csrf(self, path: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', self.get(path)[1]).group(1)


def signed_in_owner(stack: Stack, tenant: str) -> Browser:
    email = f"owner-{new_number()}@{tenant}.example"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "admin",
            "create-user",
            email,
            "--role",
            "owner",
            "--tenant",
            tenant,
            "--password",
            PASSWORD,
        ],
        cwd=ROOT,
        env=stack.env(),
        check=True,
        capture_output=True,
    )
    browser = Browser(stack.url("admin"))
    status, _ = browser.post(
        "/login",
        {"email": email, "password": PASSWORD, "csrf_token": browser.csrf("/login"), "next": "/"},
    )
    assert status == 200, "signed in and redirected to the dashboard"
    return browser
