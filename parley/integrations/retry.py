"""Which answers are retried, and when: timeouts, connection errors, 5xx,
408 and 429 back off exponentially (with jitter, so a receiver coming back
from an outage is not hit by every delivery at the same second) for up to
``WEBHOOKS_RETRY_WINDOW_SECONDS``; other 4xx (and 3xx: redirects are not
followed) fail at once, since sending the same request again would get the
same answer."""

from __future__ import annotations

import random
from datetime import timedelta
from http import HTTPStatus

from django.conf import settings

SUCCESS = "success"
RETRY = "retry"
FAIL = "fail"
# No single wait is longer than this, so a long outage is still probed hourly.
MAX_WAIT_SECONDS = 3600.0


def classify(status: int | None, *, refused: bool = False) -> str:
    if refused:
        return FAIL
    if status is None:
        return RETRY  # timeout, connection refused or closed, DNS failure
    if 200 <= status < 300:
        return SUCCESS
    if status in (408, 429) or status >= 500:
        return RETRY
    return FAIL


def describe(status: int | None) -> str:
    if status is None or 200 <= status < 300:
        return ""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "unknown status"
    if 300 <= status < 400:
        return f"HTTP {status} {phrase}: redirects are not followed; register the final URL."
    return f"HTTP {status} {phrase}"


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: base * 2^(n-1), capped,
    times a random factor in [0.5, 1.5)."""
    base = settings.WEBHOOKS_RETRY_BASE_SECONDS * 2 ** min(max(attempts - 1, 0), 30)
    wait = min(base, MAX_WAIT_SECONDS) * (0.5 + random.random())
    return timedelta(seconds=wait)


def window() -> timedelta:
    return timedelta(seconds=settings.WEBHOOKS_RETRY_WINDOW_SECONDS)
