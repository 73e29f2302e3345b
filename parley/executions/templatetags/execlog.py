"""Template filters of the execution log: pretty JSON and short durations."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.core.serializers.json import DjangoJSONEncoder

register = template.Library()


@register.filter
def pretty_json(value: Any) -> str:
    """Indented JSON (escaped by the template like any text)."""
    return json.dumps(value, indent=2, ensure_ascii=False, cls=DjangoJSONEncoder)


@register.filter
def duration(ms: float | None) -> str:
    """12 ms, 1.4 s, 3.2 min, 5.0 h: the unit a person reads at a glance."""
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
