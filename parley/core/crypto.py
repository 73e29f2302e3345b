"""Secrets at rest (access tokens, app secrets): Fernet, with key rotation.

PARLEY_ENCRYPTION_KEYS is a comma-separated list of Fernet keys, newest
first; older keys still decrypt. Without it, one key is derived from
SECRET_KEY, which is fine for development and a single deployment.
"""

from __future__ import annotations

import base64
import hashlib
import os
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _fernet() -> MultiFernet:
    raw = os.environ.get("PARLEY_ENCRYPTION_KEYS", "")
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        digest = hashlib.sha256(b"parley-secrets-at-rest:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(k) for k in keys])


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(
            "cannot decrypt: the encryption key changed or the value is damaged"
        ) from exc


def last4(secret: str) -> str:
    """What a person may see again of a secret: its last four characters."""
    return f"…{secret[-4:]}" if len(secret) > 4 else "…"
