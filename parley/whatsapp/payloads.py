"""Reading Meta's webhook payloads: entries → changes → messages/statuses.

Meta batches freely (several entries, changes, messages and statuses in one
body), so everything here iterates; nothing assumes one of each.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})


class PayloadError(ValueError):
    """The body is not a WhatsApp Business Account webhook."""


@dataclass
class Change:
    field_name: str
    phone_number_id: str
    value: dict[str, Any]
    profiles: dict[str, str] = field(default_factory=dict)  # wa_id -> profile name


def timestamp(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return datetime.now(tz=UTC)


def changes(payload: Any) -> Iterator[Change]:
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        raise PayloadError("not a whatsapp_business_account webhook")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise PayloadError("no entry list")
    for entry in entries:
        for change in (entry or {}).get("changes") or []:
            if not isinstance(change, dict):
                continue
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            metadata = value.get("metadata") or {}
            profiles = {
                str(c.get("wa_id")): str((c.get("profile") or {}).get("name") or "")
                for c in value.get("contacts") or []
                if isinstance(c, dict) and c.get("wa_id")
            }
            yield Change(
                field_name=str(change.get("field") or ""),
                phone_number_id=str(metadata.get("phone_number_id") or ""),
                value=value,
                profiles=profiles,
            )


def reply_id(message: dict[str, Any]) -> str:
    """The id of the button or list row an inbound message answers ("" if none):
    what a workflow waiting on a question matches its branches against."""
    kind = message.get("type")
    body = message.get(kind) if isinstance(kind, str) else None
    if not isinstance(body, dict):
        return ""
    if kind == "interactive":
        reply = body.get("button_reply") or body.get("list_reply") or {}
        return str(reply.get("id") or "") if isinstance(reply, dict) else ""
    if kind == "button":  # a template's quick-reply button
        return str(body.get("payload") or "")
    return ""


def summary(message: dict[str, Any]) -> tuple[str, str]:
    """(type, text) of an inbound message, the text being what a person reads."""
    kind = str(message.get("type") or "unsupported")
    body = message.get(kind)
    body = body if isinstance(body, dict) else {}
    if kind == "text":
        return kind, str(body.get("body") or "")
    if kind in MEDIA_TYPES:
        return kind, str(body.get("caption") or body.get("filename") or "")
    if kind == "location":
        label = body.get("name") or body.get("address") or ""
        return kind, str(label or f"{body.get('latitude')}, {body.get('longitude')}")
    if kind == "contacts":
        names = [
            str((c.get("name") or {}).get("formatted_name") or "")
            for c in message.get("contacts") or []
            if isinstance(c, dict)
        ]
        return kind, ", ".join(n for n in names if n)
    if kind == "interactive":
        reply = body.get("button_reply") or body.get("list_reply") or body.get("nfm_reply") or {}
        return kind, str(reply.get("title") or reply.get("body") or "")
    if kind == "button":
        return kind, str(body.get("text") or body.get("payload") or "")
    if kind == "reaction":
        return kind, str(body.get("emoji") or "")
    if kind == "order":
        items = body.get("product_items") or []
        return kind, f"Order of {len(items)} item(s)"
    if kind == "system":
        return kind, str(body.get("body") or "")
    if kind in ("unsupported", "unknown"):
        return "unsupported", ""
    return "unsupported", ""
