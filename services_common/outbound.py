"""Outbound URLs that a user chooses (an owner's quota-alert webhook): public https only.

A URL typed into the admin app must not make Booka's servers call inside their own
network (`127.0.0.1`, `169.254.169.254`, `localhost:6379`, a private range). The URL is
checked when it is saved (`check_public_url`, which also resolves the name when it can)
and again when it is used: `public_session()` connects only to the addresses its
resolver found public, so a name that resolves differently later (DNS rebinding) is
refused at connection time too. `allow_private` exists for tests whose receiving
server runs on loopback (plain http on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver


class UnsafeUrl(ValueError):
    """A URL Booka will not call; the message says why, for the person who typed it."""


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def literal_address(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def check_url_shape(url: str, allow_private: bool = False) -> str:
    """The URL's host, or `UnsafeUrl`: https (http only when private targets are allowed),
    a host, no user name or password, and an IP literal only if it is public."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise UnsafeUrl("the webhook must be an https:// address")
    host = parts.hostname or ""
    if not host or parts.username or parts.password:
        raise UnsafeUrl("the webhook needs a host name, without a user name or password")
    try:
        host.encode("idna")
    except UnicodeError:
        raise UnsafeUrl("the webhook's host name is not a valid domain name") from None
    literal = literal_address(host)
    if not allow_private and (
        host.rstrip(".").endswith("localhost") or (literal and not is_public_address(literal))
    ):
        raise UnsafeUrl(
            "the webhook must be a public address, not a private, loopback or link-local one"
        )
    return host


async def check_public_url(url: str, allow_private: bool = False, timeout_s: float = 2.0) -> None:
    """At save time: the shape, and the name's current addresses when it resolves (a name
    that does not resolve now is checked again when the alert is sent)."""
    host = check_url_shape(url, allow_private)
    if allow_private or literal_address(host):
        return
    try:
        found = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, 443, type=socket.SOCK_STREAM), timeout_s
        )
    except (OSError, asyncio.TimeoutError):
        return
    if any(not is_public_address(info[4][0]) for info in found):
        raise UnsafeUrl("the webhook's name resolves to a private, loopback or link-local address")


class PublicOnlyResolver(AbstractResolver):
    """aiohttp's resolver, keeping only public addresses; none left refuses the connection."""

    def __init__(self) -> None:
        self.inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: int = socket.AF_INET
    ) -> list[dict[str, Any]]:
        public = [
            entry
            for entry in await self.inner.resolve(host, port, family)
            if is_public_address(entry["host"])
        ]
        if not public:
            raise OSError(f"{host} resolves to no public address")
        return public

    async def close(self) -> None:
        await self.inner.close()


def public_session(allow_private: bool = False) -> aiohttp.ClientSession:
    """A client session for user-chosen URLs: it connects only to public addresses."""
    if allow_private:
        return aiohttp.ClientSession()
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=PublicOnlyResolver()))
