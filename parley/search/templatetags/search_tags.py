"""Highlight the searched words in a result."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def highlight(text: str, q: str) -> SafeString:
    """Escape `text`, then wrap each searched word (as a prefix) in <mark>."""
    words = sorted({w for w in re.findall(r"\w+", q.lower()) if len(w) > 1}, key=len, reverse=True)
    safe = escape(text)
    if not words:
        return mark_safe(safe)  # noqa: S308  (escaped above)
    pattern = re.compile("|".join(re.escape(escape(w)) for w in words), re.IGNORECASE)
    return mark_safe(pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", safe))  # noqa: S308
