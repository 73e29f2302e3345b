"""Cursor pagination: stable under inserts, O(limit) at any depth."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

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


def _check_limit(limit: int) -> None:
    if limit < 1 or limit > MAX_LIMIT:
        raise ActionError(
            f"limit must be between 1 and {MAX_LIMIT}.", code="invalid_limit", field="limit"
        )


def paginate(
    queryset: QuerySet[M], *, cursor: str | None, limit: int, newest_first: bool = False
) -> dict[str, Any]:
    """One page of ``queryset`` in id order, as ``{"items", "next_cursor"}``."""
    _check_limit(limit)
    queryset = queryset.order_by("-id" if newest_first else "id")
    if cursor:
        last = decode_cursor(cursor)
        queryset = queryset.filter(id__lt=last) if newest_first else queryset.filter(id__gt=last)
    rows = list(queryset[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": rows,
        "next_cursor": encode_cursor(rows[-1].pk) if more and rows else None,
    }


def paginate_recent(
    queryset: QuerySet[M], *, field: str, cursor: str | None, limit: int
) -> dict[str, Any]:
    """Newest first by ``field`` (a datetime), ties broken by id."""
    _check_limit(limit)
    queryset = queryset.order_by(f"-{field}", "-id")
    if cursor:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            stamp, _, last_id = base64.urlsafe_b64decode(padded).decode().partition("|")
            when = datetime.fromisoformat(stamp)
            ident = int(last_id)
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise ActionError(
                "This cursor is not valid: pass next_cursor from the previous page unchanged.",
                code="invalid_cursor",
                field="cursor",
            ) from exc
        queryset = queryset.filter(
            Q(**{f"{field}__lt": when}) | Q(**{field: when, "id__lt": ident})
        )
    rows = list(queryset[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        token = f"{getattr(last, field).isoformat()}|{last.pk}"
        next_cursor = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")
    return {"items": rows, "next_cursor": next_cursor}
