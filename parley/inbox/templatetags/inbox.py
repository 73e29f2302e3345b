"""Rendering messages as bubbles."""

from __future__ import annotations

import json
from collections.abc import Iterable

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from parley.inbox.models import Message, QuickReply

register = template.Library()

TICKS = {
    "queued": "🕓",
    "sending": "🕓",
    "sent": "✓",
    "delivered": "✓✓",
    "read": "✓✓",
    "failed": "!",
}


@register.simple_tag
def ticks(status: str) -> str:
    return TICKS.get(status, "")


@register.simple_tag(takes_context=True)
def bubble_body(context: template.Context, message: Message) -> SafeString:
    # render_to_string returns escaped, safe markup.
    return render_to_string(
        "inbox/_bubble_body.html",
        {"m": message, "p": message.payload, "workspace": context.get("workspace")},
    )


@register.simple_tag
def quick_replies_json(rows: Iterable[QuickReply]) -> str:
    # Escaped by the template engine when placed in the attribute.
    return json.dumps([{"s": r.shortcut, "t": r.title, "b": r.body} for r in rows])


@register.filter
def media_label(message: Message) -> str:
    body = message.payload.get(message.type) or {}
    return str(body.get("filename") or body.get("mime_type") or message.type)
