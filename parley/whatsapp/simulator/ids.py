"""Identifiers shaped like Meta's: wamids, numeric object ids, trace ids."""

from __future__ import annotations

import base64
import itertools
import random
import string

# One random prefix per process plus a counter: unique without a syscall per id.
_PREFIX = "".join(random.choices("0123456789ABCDEF", k=8))
_counter = itertools.count(1)
_object_counter = itertools.count(random.randint(10**14, 9 * 10**14))
_TRACE_ALPHABET = string.ascii_letters + string.digits + "_-"


def wamid(wa_id: str) -> str:
    """A unique message id. Real wamids are base64 of a small binary record that embeds
    the customer's number and a hex message id; this mimics that layout."""
    digits = "".join(ch for ch in wa_id if ch.isdigit())[:20].encode()
    unique = f"{_PREFIX}{next(_counter):010X}".encode()
    raw = b"\x18" + bytes([len(digits)]) + digits + b"\x15\x02\x00\x11\x18\x12" + unique + b"\x00"
    return "wamid." + base64.b64encode(raw).decode()


def object_id() -> str:
    """Numeric string ids, as Meta uses for media, templates and phone numbers."""
    return str(next(_object_counter))


def fbtrace_id() -> str:
    return "".join(random.choices(_TRACE_ALPHABET, k=23))


def conversation_id() -> str:
    return "".join(random.choices("0123456789abcdef", k=32))
