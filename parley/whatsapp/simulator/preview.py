"""One-line, human-readable renderings of messages for the message log and the demo page."""

from __future__ import annotations

from typing import Any


def describe(msg_type: str, content: Any) -> str:
    if not isinstance(content, dict | list):
        return f"[{msg_type}]"
    if isinstance(content, list):  # contacts
        names = [
            str((c.get("name") or {}).get("formatted_name", ""))
            for c in content
            if isinstance(c, dict)
        ]
        return "👤 " + ", ".join(n for n in names if n)
    if msg_type == "text":
        return str(content.get("body", ""))
    if msg_type in ("image", "video", "document", "audio", "sticker"):
        label = content.get("caption") or content.get("filename") or ""
        return f"[{msg_type}] {label}".strip()
    if msg_type == "location":
        where = content.get("name") or content.get("address") or ""
        return f"📍 {where} ({content.get('latitude')}, {content.get('longitude')})".replace(
            "📍  ", "📍 "
        )
    if msg_type == "reaction":
        emoji = content.get("emoji") or ""
        return f"reacted {emoji}" if emoji else "removed a reaction"
    if msg_type == "interactive":
        for reply in ("button_reply", "list_reply"):
            if isinstance(content.get(reply), dict):
                return str(content[reply].get("title", ""))
        if isinstance(content.get("nfm_reply"), dict):
            return str(content["nfm_reply"].get("body") or "[flow reply]")
        body = content.get("body")
        return str(body.get("text", "")) if isinstance(body, dict) else "[interactive]"
    if msg_type == "button":
        return str(content.get("text", ""))
    if msg_type == "order":
        items = content.get("product_items") or []
        return f"🛒 order with {len(items)} item(s)"
    return f"[{msg_type}]"


def choices(msg_type: str, content: Any) -> list[dict[str, str]]:
    """Tappable replies an interactive message offers the customer (for the demo page)."""
    if msg_type != "interactive" or not isinstance(content, dict):
        return []
    action = content.get("action") or {}
    out: list[dict[str, str]] = []
    if content.get("type") == "button":
        for button in action.get("buttons") or []:
            reply = button.get("reply") or {} if isinstance(button, dict) else {}
            out.append(
                {
                    "kind": "button_reply",
                    "id": str(reply.get("id", "")),
                    "title": str(reply.get("title", "")),
                }
            )
    elif content.get("type") == "list":
        for section in action.get("sections") or []:
            for row in section.get("rows") or [] if isinstance(section, dict) else []:
                if isinstance(row, dict):
                    out.append(
                        {
                            "kind": "list_reply",
                            "id": str(row.get("id", "")),
                            "title": str(row.get("title", "")),
                        }
                    )
    return out
