"""Is a webhook really from the Evolution instance it names? (contract §3.4)

Evolution signs nothing, so three mechanisms are accepted, any one being enough:
the envelope's `apikey` equal to the instance token; `Authorization: Bearer <JWT>` from
Evolution's `jwt_key` header setting (HS256, `exp` checked); or a per-instance secret in a
custom header set through `webhook.headers`.
"""
from __future__ import annotations

import hmac
from typing import Any, Mapping, Optional

import jwt

from connectors.instances import Instance


def _same(given: Any, expected: Optional[str]) -> bool:
    return isinstance(given, str) and bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


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


def is_authentic(instance: Instance, body: Mapping[str, Any], headers: Mapping[str, str], secret_header: str) -> bool:
    if _same(body.get("apikey"), instance.token):
        return True
    if instance.secret and _same(headers.get(secret_header), instance.secret):
        return True
    return valid_bearer(headers.get("authorization", ""), instance.jwt_keys)
