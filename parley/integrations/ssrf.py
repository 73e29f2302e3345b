"""The guard against server-side request forgery: an endpoint may only point
at the public internet. Checked when an endpoint is saved (so the admin sees
why) and again for every delivery (DNS can change after the save: a name that
once resolved to a public address may now point inside the network).

Every address the host resolves to must be global; one private answer is
enough to refuse, since the connection could go to any of them. Loopback is
allowed only with ``settings.WEBHOOKS_ALLOW_LOOPBACK`` (development, demo,
tests)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(Exception):  # noqa: N818  (it reads as what happened)
    """The URL must not be called; ``str(exc)`` says why, for a person."""


class Unresolvable(Exception):  # noqa: N818
    """The host name did not resolve (may be temporary at delivery time)."""


def _kind(ip: IPAddress) -> str:
    """Why an address is not public ("" when it is)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _kind(ip.ipv4_mapped)
    if ip.is_loopback:
        return "" if settings.WEBHOOKS_ALLOW_LOOPBACK else "loopback"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        # Shared address space (100.64.0.0/10) and the like: not the internet.
        return "non-public"
    return ""


def check_address(ip: IPAddress, host: str) -> None:
    kind = _kind(ip)
    if kind:
        shown = host if host == str(ip) else f"{host} ({ip})"
        raise RefusedAddress(
            f"{shown} is a {kind} address; webhooks only go to public internet addresses."
        )


def split(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, or RefusedAddress saying what is wrong."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedAddress(f"The URL is not valid: {exc}.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise RefusedAddress("The URL must start with https:// (or http://).")
    host = parts.hostname or ""
    if not host:
        raise RefusedAddress("The URL has no host name.")
    if parts.username or parts.password:
        raise RefusedAddress("The URL must not carry a user name or password.")
    return scheme, host, port or (443 if scheme == "https" else 80)


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unresolvable(f"The host {host} could not be resolved ({exc}).") from exc
    # Scope ids ("fe80::1%eth0") are dropped: the address decides.
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def check_url(url: str) -> list[IPAddress]:
    """The URL's addresses, all allowed; RefusedAddress or Unresolvable otherwise."""
    _scheme, host, port = split(url)
    addresses = resolve(host, port)
    for ip in addresses:
        check_address(ip, host)
    return addresses
