"""Keyset pagination of notes: newest first, or pinned first then newest
(a contact's notes). O(limit) at any depth and stable under inserts."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from parley.core.errors import ActionError
from parley.core.pagination import MAX_LIMIT
from parley.notes.models import ContactNote

BAD_CURSOR = "This cursor is not valid: pass next_cursor from the previous page unchanged."


def _encode(note: ContactNote) -> str:
    raw = f"{int(note.pinned)}|{note.created_at.isoformat()}|{note.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[bool, datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        pinned, stamp, ident = base64.urlsafe_b64decode(padded).decode().split("|")
        if pinned not in ("0", "1"):
            raise ValueError(pinned)
        when = datetime.fromisoformat(stamp)
        if when.tzinfo is None:
            raise ValueError(stamp)
        return pinned == "1", when, int(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ActionError(BAD_CURSOR, code="invalid_cursor", field="cursor") from exc


def page_notes(
    qs: QuerySet[ContactNote], *, cursor: str | None, limit: int, pinned_first: bool
) -> dict[str, Any]:
    if limit < 1 or limit > MAX_LIMIT:
        raise ActionError(
            f"limit must be between 1 and {MAX_LIMIT}.", code="invalid_limit", field="limit"
        )
    order = ["-created_at", "-id"]
    qs = qs.order_by(*(["-pinned", *order] if pinned_first else order))
    if cursor:
        pinned, when, ident = _decode(cursor)
        older = Q(created_at__lt=when) | Q(created_at=when, id__lt=ident)
        if pinned_first:
            same = Q(pinned=pinned) & older
            qs = qs.filter(same | Q(pinned=False)) if pinned else qs.filter(same)
        else:
            qs = qs.filter(older)
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": _encode(rows[-1]) if more and rows else None}
