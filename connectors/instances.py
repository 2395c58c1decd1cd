"""Which tenant an Evolution instance belongs to, and the secrets its webhooks carry.

Instances come from two places: the booking service's tenants (each has its
`evolution_instance`; their webhooks use `EVOLUTION_INSTANCE_TOKEN`), and an optional YAML
file (`EVOLUTION_INSTANCES_FILE`) that gives an instance its own token, webhook secret or
`jwt_key`, or maps an instance the booking service does not know. The admin app's
`/internal/v1/instances/{instance}` replaces the file once it exists.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import aiohttp
import yaml

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Instance:
    name: str
    tenant: str
    token: str                  # Evolution's instance token: the envelope's `apikey`, and the JWT key by default
    secret: Optional[str] = None    # value of the per-instance secret header, when one is configured
    jwt_key: Optional[str] = None   # the `jwt_key` given to Evolution, when it differs from the token

    @property
    def jwt_keys(self) -> tuple[str, ...]:
        return tuple(k for k in (self.jwt_key, self.token) if k)


def instances_from_file(path: Optional[str], default_token: str) -> dict[str, Instance]:
    """`instances: {name: {tenant, token?, secret?, jwt_key?}}` from the YAML file, if any."""
    if not path:
        return {}
    raw = yaml.safe_load(Path(path).read_text()) or {}
    entries = raw.get("instances") or {}
    if not isinstance(entries, dict):
        raise ValueError(f"{path}: 'instances' must map instance names to settings")
    return {
        str(name): Instance(str(name), str(entry["tenant"]), str(entry.get("token") or default_token),
                            entry.get("secret"), entry.get("jwt_key"))
        for name, entry in entries.items()
    }


class InstanceDirectory:
    """Looks instances up in the booking service's tenant list, reloaded every `ttl_s`.

    A name not in the list reloads it (one reload shared by concurrent requests), so a
    tenant onboarded a second ago is found; a name still unknown after that is remembered
    as unknown for `miss_cache_s`, so junk webhooks cannot hammer the booking service.
    """

    def __init__(self, booking_url: str, internal_token: str, default_token: str, configured: dict[str, Instance],
                 ttl_s: float = 60, miss_cache_s: float = 2) -> None:
        self.booking_url, self.internal_token, self.default_token = booking_url, internal_token, default_token
        self.configured = configured
        self.ttl_s, self.miss_cache_s = ttl_s, miss_cache_s
        self.from_tenants: dict[str, Instance] = {}
        self.load_started = float("-inf")
        self.misses: dict[str, float] = {}
        self.lock = asyncio.Lock()
        self.session: Optional[aiohttp.ClientSession] = None

    async def lookup(self, name: str) -> Optional[Instance]:
        if name in self.configured:
            return self.configured[name]
        arrived = time.monotonic()
        known = self.from_tenants.get(name)
        if known is not None and arrived - self.load_started < self.ttl_s:
            return known
        if known is None and arrived - self.misses.get(name, float("-inf")) < self.miss_cache_s:
            return None
        await self.reload(newer_than=arrived)
        found = self.from_tenants.get(name)
        if found is None:
            if len(self.misses) > 10_000:
                self.misses.clear()
            self.misses[name] = time.monotonic()
        return found

    async def reload(self, newer_than: float) -> None:
        """Reload unless a reload started after `newer_than` (then its result is fresh enough)."""
        async with self.lock:
            if self.load_started >= newer_than:
                return
            started = time.monotonic()
            try:
                tenants = await self.fetch_tenants()
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                log.warning("evolution_instances_reload_failed error=%s", type(error).__name__)
                return  # keep the list we had; the next request tries again
            self.from_tenants = {
                t["evolution_instance"]: Instance(t["evolution_instance"], t["slug"], self.default_token)
                for t in tenants if t.get("evolution_instance") and not t.get("suspended")
            }
            self.misses.clear()
            self.load_started = started

    async def fetch_tenants(self) -> list[dict[str, Any]]:
        if self.session is None:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        async with self.session.get(f"{self.booking_url}/v1/tenants", headers={"Authorization": f"Bearer {self.internal_token}"}) as response:
            if response.status != 200:
                raise ValueError(f"booking service answered {response.status}")
            return (await response.json()).get("tenants", [])

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
