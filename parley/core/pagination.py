"""Cursor pagination: stable under inserts, O(limit) at any depth."""

from __future__ import annotations

import base64
import binascii
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from parley.core.errors import ActionError

M = TypeVar("M", bound=Model)

MAX_LIMIT = 200


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kind, _, value = base64.urlsafe_b64decode(padded).decode().partition(":")
        if kind != "id":
            raise ValueError(kind)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ActionError(
            "This cursor is not valid: pass next_cursor from the previous page unchanged.",
            code="invalid_cursor",
            field="cursor",
        ) from exc


def paginate(queryset: QuerySet[M], *, cursor: str | None, limit: int) -> dict[str, Any]:
    """One page of ``queryset`` in id order, as ``{"items", "next_cursor"}``."""
    if limit < 1 or limit > MAX_LIMIT:
        raise ActionError(
            f"limit must be between 1 and {MAX_LIMIT}.", code="invalid_limit", field="limit"
        )
    queryset = queryset.order_by("id")
    if cursor:
        queryset = queryset.filter(id__gt=decode_cursor(cursor))
    rows = list(queryset[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": rows,
        "next_cursor": encode_cursor(rows[-1].pk) if more and rows else None,
    }
