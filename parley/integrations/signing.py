"""Signing deliveries, and the check a receiver makes (``verify``).

Header ``X-Parley-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`` where each
``v1`` is ``HMAC-SHA256(secret, f"{t}.{body}")`` in lower-case hex, one per
valid secret (two during a rotation's overlap). A receiver recomputes the HMAC
over the raw body bytes with its secret and accepts the request when any v1
matches and ``t`` is recent (that refuses replays of old captured requests).
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Parley-Signature"
DELIVERY_HEADER = "X-Parley-Delivery"
EVENT_HEADER = "X-Parley-Event"
# How old a timestamp a receiver should accept, by default.
TOLERANCE_SECONDS = 300


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secrets: list[str], body: bytes, timestamp: int | None = None) -> str:
    """The signature header's value for ``body`` under every secret given."""
    t = int(time.time()) if timestamp is None else timestamp
    return ",".join([f"t={t}", *(f"v1={_mac(s, t, body)}" for s in secrets)])


def verify(
    *,
    secret: str,
    body: bytes,
    header: str,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a receiver does: True if ``header`` signs ``body`` with ``secret``
    and its timestamp is within ``tolerance`` seconds of now."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = _mac(secret, timestamp, body)
    return any(hmac.compare_digest(expected, c) for c in candidates)
