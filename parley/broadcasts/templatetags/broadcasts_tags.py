"""Display helpers for the broadcast pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def thousands(value: object) -> str:
    """12345 -> "12,345" (humanize is not installed)."""
    try:
        return f"{int(str(value)):,}"
    except ValueError:
        return str(value)
