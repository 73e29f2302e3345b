"""Meta's webhook signature: HMAC-SHA256 of the raw body with the app secret."""

from __future__ import annotations

import hashlib
import hmac


def sign(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def is_valid(body: bytes, app_secret: str, header: str) -> bool:
    return hmac.compare_digest(sign(body, app_secret), header.strip())
