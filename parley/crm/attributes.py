"""Custom attribute values: parsed and checked against their definition, so
segments can compare them as numbers, dates and booleans."""

from __future__ import annotations

import datetime
import re
from typing import Any

from parley.core.errors import ActionError
from parley.crm.models import AttributeDefinition

KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TRUE = {"true", "yes", "y", "1", "on"}
FALSE = {"false", "no", "n", "0", "off"}


def clean_value(definition: AttributeDefinition, raw: Any) -> Any:
    """The stored form of ``raw`` (None clears), or ActionError naming the field."""
    field = f"attributes.{definition.key}"
    if raw is None or raw == "":
        return None
    kind = definition.type
    if kind == AttributeDefinition.Type.TEXT:
        text = str(raw).strip()
        if len(text) > 1000:
            raise ActionError(
                f"{definition.label} holds up to 1,000 characters.", code="too_long", field=field
            )
        return text
    if kind == AttributeDefinition.Type.NUMBER:
        try:
            number = float(str(raw).replace(",", "").strip())
        except ValueError:
            raise ActionError(
                f"{definition.label} must be a number, not {raw!r}.", code="invalid", field=field
            ) from None
        return int(number) if number.is_integer() else number
    if kind == AttributeDefinition.Type.DATE:
        try:
            return datetime.date.fromisoformat(str(raw).strip()).isoformat()
        except ValueError:
            raise ActionError(
                f"{definition.label} must be a date like 2026-12-31, not {raw!r}.",
                code="invalid",
                field=field,
            ) from None
    if kind == AttributeDefinition.Type.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        word = str(raw).strip().lower()
        if word in TRUE or word in FALSE:
            return word in TRUE
        raise ActionError(
            f"{definition.label} is yes or no, not {raw!r}.", code="invalid", field=field
        )
    value = str(raw).strip()
    if value not in definition.choices:
        raise ActionError(
            f"{definition.label} is one of {', '.join(definition.choices)}; {raw!r} is not.",
            code="invalid",
            field=field,
        )
    return value


def clean_attributes(
    definitions: dict[str, AttributeDefinition], values: dict[str, Any]
) -> dict[str, Any]:
    unknown = sorted(set(values) - set(definitions))
    if unknown:
        raise ActionError(
            f"Unknown attribute(s) {', '.join(unknown)}: define them first.",
            code="unknown_attribute",
            field=f"attributes.{unknown[0]}",
        )
    return {key: clean_value(definitions[key], raw) for key, raw in values.items()}
