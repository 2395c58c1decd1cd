"""Field-level encryption (AES-256-GCM) with rotating keys, and keyed lookup hashes.

Each encrypted value is stored as `<key id>:<base64(nonce || ciphertext)>`, so the key that
sealed it travels beside it and keys can rotate: new values use the newest key, old values
stay readable while their key is configured, and `rotate-keys` re-seals them. The associated
data binds a ciphertext to its place (table, column, tenant): a value copied into another
tenant's row does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class KeyConfigError(ValueError):
    """The configured keys cannot be used (bad format, wrong length, unknown key id)."""


def generate_keyring_spec() -> str:
    """A fresh `BOOKA_SECRET_KEYS` value with one key, for local first runs."""
    return f"k{secrets.token_hex(3)}:{base64.urlsafe_b64encode(os.urandom(32)).decode()}"


@dataclass(frozen=True)
class Keyring:
    """Encryption keys by id; the first is the one new values are sealed with."""

    keys: dict[str, bytes]
    current_id: str

    @classmethod
    def parse(cls, spec: str) -> Keyring:
        """Parse `id:base64key,id:base64key` (newest first)."""
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for part in (p.strip() for p in spec.split(",") if p.strip()):
            key_id, sep, encoded = part.partition(":")
            if not sep or not key_id.isalnum():
                raise KeyConfigError(
                    f"key entry {key_id or part[:6]!r} is not of the form id:base64key"
                )
            try:
                key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            except ValueError as exc:
                raise KeyConfigError(f"key {key_id!r} is not valid base64") from exc
            if len(key) != 32:
                raise KeyConfigError(f"key {key_id!r} must be 32 bytes (AES-256), got {len(key)}")
            keys[key_id] = key
            order.append(key_id)
        if not order:
            raise KeyConfigError("no encryption key configured in BOOKA_SECRET_KEYS")
        return cls(keys=keys, current_id=order[0])

    def encrypt(self, plaintext: str, context: str) -> str:
        """Seal `plaintext` with the newest key, bound to `context` (e.g. `customers.phone:7`)."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current_id]).encrypt(
            nonce, plaintext.encode(), context.encode()
        )
        return f"{self.current_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str, context: str) -> str:
        """Open a value sealed by `encrypt` with the same `context`."""
        key_id, _, payload = stored.partition(":")
        key = self.keys.get(key_id)
        if key is None:
            raise KeyConfigError(f"value sealed with key {key_id!r}, which is not configured")
        raw = base64.b64decode(payload)
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()

    def needs_rotation(self, stored: str) -> bool:
        """True when `stored` was sealed with a key other than the newest."""
        return stored.partition(":")[0] != self.current_id


def lookup_hash(key: bytes, value: str) -> str:
    """A keyed hash (HMAC-SHA256) to find a row by an encrypted value without decrypting all
    rows."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
