"""API token format: ``prl_<key id>_<secret>``. The key id finds the row, the
secret is compared with its stored sha256 (it has 256 bits of entropy, so a
fast hash is enough and keeps authentication cheap on every request)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "prl_"


def new_token() -> tuple[str, str, str]:
    """Return (raw token, key id, secret hash)."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"{PREFIX}{key_id}_{secret}", key_id, hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(raw: str) -> tuple[str, str] | None:
    if not raw.startswith(PREFIX):
        return None
    key_id, sep, secret = raw[len(PREFIX) :].partition("_")
    if not sep or len(key_id) != 12 or not secret:
        return None
    return key_id, secret


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
