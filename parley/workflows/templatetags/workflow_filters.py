"""Two small filters the builder's templates need."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, key)


@register.filter
def split_words(text: str) -> list[str]:
    return text.split()
