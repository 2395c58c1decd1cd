"""Which tenant an Evolution instance belongs to, and the secrets its webhooks must carry.

Instances come from two places: the tenant engine (`GET /internal/v1/instances/{instance}`:
the tenant, and the SHA-256 of the instance's webhook secret, which the engine sets as a
custom webhook header in Evolution and rotates), and an optional YAML file
(`EVOLUTION_INSTANCES_FILE`) where an operator gives an instance its own token, webhook
secret or `jwt_key`. The one token of every instance (`EVOLUTION_INSTANCE_TOKEN`, used for
outbound calls) never authenticates a webhook: whoever holds it could post as any customer
of any business.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Instance:
    name: str
    tenant: str
    token: (
        str  # the instance token for outbound calls (and, when accepted, the envelope's `apikey`)
    )
    secret: str | None = None  # value of the per-instance secret header, from the instances file
    jwt_key: str | None = None  # the `jwt_key` given to Evolution, when it differs from the token
    secret_sha256: tuple[
        str, ...
    ] = ()  # the engine's hashes of the instance's webhook secrets (current, previous)
    token_accepted: bool = (
        True  # whether `token` authenticates webhooks (an instances file's own token)
    )

    @property
    def jwt_keys(self) -> tuple[str, ...]:
        return tuple(k for k in (self.jwt_key, self.token if self.token_accepted else None) if k)


def instances_from_file(path: str | None, default_token: str) -> dict[str, Instance]:
    """`instances: {name: {tenant, token?, secret?, jwt_key?}}` from the YAML file, if any."""
    if not path:
        return {}
    raw = yaml.safe_load(Path(path).read_text()) or {}
    entries = raw.get("instances") or {}
    if not isinstance(entries, dict):
        raise ValueError(f"{path}: 'instances' must map instance names to settings")
    return {
        str(name): Instance(
            str(name),
            str(entry["tenant"]),
            str(entry.get("token") or default_token),
            entry.get("secret"),
            entry.get("jwt_key"),
            token_accepted=bool(entry.get("token")),
        )
        for name, entry in entries.items()
    }


class DirectoryUnavailable(Exception):
    """The tenant engine could not be asked about an instance this process has never seen."""


class InstanceDirectory:
    """Looks each instance up in the tenant engine, one request per instance: a found one is
    kept `ttl_s`, an unknown one `miss_cache_s`; a secret that does not match asks again (at
    most every `recheck_s`), so a rotated secret works at once. Junk names cost one small
    request each per period, never a reload of every tenant; concurrent lookups of one name
    share one request. When the engine cannot be reached, a name seen before keeps its last
    answer, and a name never seen raises DirectoryUnavailable (the webhook gets a 503, which
    Evolution retries)."""

    def __init__(
        self,
        engine_url: str,
        internal_token: str,
        default_token: str,
        configured: dict[str, Instance],
        ttl_s: float = 30,
        miss_cache_s: float = 30,
        recheck_s: float = 2,
    ) -> None:
        self.engine_url, self.internal_token, self.default_token = (
            engine_url,
            internal_token,
            default_token,
        )
        self.configured = configured
        self.ttl_s, self.miss_cache_s, self.recheck_s = ttl_s, miss_cache_s, recheck_s
        self.known: dict[str, tuple[float, Instance | None]] = {}
        self.in_flight: dict[str, asyncio.Future] = {}
        self.session: aiohttp.ClientSession | None = None
        self.requests = 0  # lookups sent to the engine (for tests and the log)

    async def lookup(self, name: str, newer_than_s: float | None = None) -> Instance | None:
        """The instance, from the cache unless its answer is older than `newer_than_s` (a
        webhook whose secret did not match asks again: the secret may have just rotated)."""
        if name in self.configured:
            return self.configured[name]
        kept = self.known.get(name)
        fresh_for = (
            newer_than_s
            if newer_than_s is not None
            else (self.ttl_s if kept and kept[1] else self.miss_cache_s)
        )
        if kept is not None and time.monotonic() - kept[0] < fresh_for:
            return kept[1]
        if name not in self.in_flight:
            self.in_flight[name] = asyncio.ensure_future(
                self.fetch(name, kept[1] if kept else None)
            )
            self.in_flight[name].add_done_callback(lambda _: self.in_flight.pop(name, None))
        return await asyncio.shield(self.in_flight[name])

    def checked_since(self, name: str, moment: float) -> bool:
        """Whether the answer kept for `name` was asked for at or after `moment` (monotonic)."""
        return name in self.configured or (name in self.known and self.known[name][0] >= moment)

    async def fetch(self, name: str, stale: Instance | None) -> Instance | None:
        asked = time.monotonic()
        try:
            found = await self.ask_engine(name)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            log.warning("evolution_instance_lookup_failed error=%s", type(error).__name__)
            if stale is None:
                raise DirectoryUnavailable(name) from None
            self.known[name] = (
                asked,
                stale,
            )  # the last answer, for another period, while the engine is away
            return stale
        if len(self.known) > 10_000:
            self.known.clear()
        self.known[name] = (asked, found)
        return found

    async def ask_engine(self, name: str) -> Instance | None:
        if self.session is None:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        self.requests += 1
        async with self.session.get(
            f"{self.engine_url}/internal/v1/instances/{name}",
            headers={"Authorization": f"Bearer {self.internal_token}"},
        ) as response:
            if response.status == 404:
                return None
            if response.status != 200:
                raise ValueError(f"the tenant engine answered {response.status}")
            body: dict[str, Any] = await response.json()
        return Instance(
            name,
            str(body["tenant"]),
            self.default_token,
            secret_sha256=tuple(body.get("webhook_secret_sha256") or ()),
            token_accepted=False,
        )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
