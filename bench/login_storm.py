"""Customers' replies during an admin sign-in storm (`make bench`): prints figures, asserts
nothing.

The owners' web app signs people in (argon2id, about 100 ms of CPU each); the tenant engine,
on every customer turn, is its own process since the split, so a storm of sign-ins should
not slow customers down beyond the machine's shared CPU. This measures webhook -> the bot's
sendText p50 for LOGIN_STORM_TURNS customer turns ("what are your opening hours?", each from
a new customer, one after another), first with the web app idle, then while
LOGIN_STORM_USERS owners (default 20) sign in over and over, each with its own account and
the right password. The floor is the quiet run of the same stack, so the figure is the
storm's ratio to it.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack_bench import ROOT, percentiles, running_stack  # noqa: E402
from tests.assistant.stack import Stack, latest_model  # noqa: E402

SHOP = "bella-salon"
TURNS = int(os.environ.get("LOGIN_STORM_TURNS", "40"))
USERS = int(os.environ.get("LOGIN_STORM_USERS", "20"))
PASSWORD = "storm-password-1234"


def add_owners(stack: Stack) -> list[str]:
    emails = [f"owner{n}@storm.local" for n in range(USERS)]
    for email in emails:
        command = [sys.executable, "-m", "admin", "create-user", email, "--role", "owner"]
        subprocess.run(
            [*command, "--tenant", SHOP, "--password", PASSWORD],
            cwd=ROOT,
            env=stack.env(),
            check=True,
            capture_output=True,
        )
    return emails


async def sign_in_forever(url: str, email: str, stop: threading.Event, counts: list[int]) -> None:
    """One owner signing in again and again, each time as a new browser."""
    while not stop.is_set():
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            form = await (await session.get(f"{url}/login")).text()
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
            data = {"email": email, "password": PASSWORD, "csrf_token": csrf}
            answer = await session.post(f"{url}/login", data=data, allow_redirects=False)
            counts[answer.status == 303] += 1


def storm(url: str, emails: list[str], stop: threading.Event, counts: list[int]) -> None:
    async def run() -> None:
        await asyncio.gather(*(sign_in_forever(url, email, stop, counts) for email in emails))

    asyncio.run(run())


def reply_times(stack: Stack, prefix: str) -> list[float]:
    """Seconds from the first webhook attempt to the bot's answer, turn by turn."""
    times = []
    for n in range(TURNS):
        number = f"{prefix}{n:05d}"
        message_id = stack.whatsapp(SHOP, number, "what are your opening hours?")
        stack.bot_replies(SHOP, number, 1, timeout=60)
        _, sent = stack.sandbox("GET", f"/sandbox/deliveries?message_id={message_id}")
        first = min(a["started"] for a in sent["attempts"])
        answer = next(m for m in stack.chat(SHOP, number) if m["from_me"])
        times.append(answer["at"] - first)
    return times


def main() -> None:
    with running_stack(latest_model(), ADMIN_SIGN_INS_PER_MINUTE="1000000") as stack:
        emails = add_owners(stack)
        stack.connect_whatsapp(SHOP)
        reply_times(stack, "3519300")  # warm-up: first turns load the model's caches
        quiet = percentiles(reply_times(stack, "3519310"), 50, 95)
        stop, counts = threading.Event(), [0, 0]
        storming = threading.Thread(target=storm, args=(stack.url("admin"), emails, stop, counts))
        storming.start()
        started = time.monotonic()
        try:
            busy = percentiles(reply_times(stack, "3519320"), 50, 95)
        finally:
            stop.set()
            storming.join()
        took = time.monotonic() - started
    print(f"\nCustomers' replies during an admin sign-in storm ({TURNS} turns each)")
    print(f"  web app idle            p50 {quiet['p50']:7.1f} ms   p95 {quiet['p95']:7.1f} ms")
    print(
        f"  {USERS} owners signing in   p50 {busy['p50']:7.1f} ms   p95 {busy['p95']:7.1f} ms"
        f"   -> p50 {busy['p50'] / quiet['p50']:.2f}x the idle floor"
    )
    print(
        f"  sign-ins during the storm: {counts[1]} ({counts[1] / took:.1f}/s), refused {counts[0]}"
    )


if __name__ == "__main__":
    main()
