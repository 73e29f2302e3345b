"""Loopback-only guards: the simulator must never listen on, or post to, anything else."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback_host(host: str) -> bool:
    host = host.strip().strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_url_problem(url: str) -> str | None:
    """Why `url` is not an acceptable webhook target, or None if it is."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "webhook_url is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "webhook_url must be http:// or https://"
    if not host or not is_loopback_host(host):
        return "webhook_url must point at a loopback address (127.0.0.0/8, localhost or ::1)"
    return None
