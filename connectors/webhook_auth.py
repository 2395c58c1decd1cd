"""Is a webhook really from the Evolution instance it names? (contract §3.4)

Evolution signs nothing, so these mechanisms are accepted, any one being enough: the
instance's webhook secret in a custom header set through `webhook.headers` (compared with
the engine's SHA-256 of it, or with the instances file's value); and, for instances whose
token is accepted (the instances file, the sandbox's shared mode), the envelope's `apikey`
equal to the token or `Authorization: Bearer <JWT>` from Evolution's `jwt_key` header
setting (HS256, `exp` checked).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import jwt

from connectors.instances import Instance


def _same(given: Any, expected: str | None) -> bool:
    return (
        isinstance(given, str)
        and bool(expected)
        and hmac.compare_digest(given.encode(), expected.encode())
    )


def valid_bearer(authorization: str, keys: tuple[str, ...]) -> bool:
    if not authorization.lower().startswith("bearer "):
        return False
    token = authorization[7:].strip()
    for key in keys:
        try:
            jwt.decode(token, key, algorithms=["HS256"], options={"require": ["exp"]})
            return True
        except jwt.PyJWTError:
            continue
    return False


def secret_matches(given: Any, hashes: tuple[str, ...]) -> bool:
    if not isinstance(given, str) or not given:
        return False
    digest = hashlib.sha256(given.encode()).hexdigest()
    return any(hmac.compare_digest(digest.encode(), expected.encode()) for expected in hashes)


def is_authentic(
    instance: Instance, body: Mapping[str, Any], headers: Mapping[str, str], secret_header: str
) -> bool:
    given = headers.get(secret_header)
    if secret_matches(given, instance.secret_sha256):
        return True
    if instance.secret and _same(given, instance.secret):
        return True
    if instance.token_accepted and _same(body.get("apikey"), instance.token):
        return True
    return valid_bearer(headers.get("authorization", ""), instance.jwt_keys)
