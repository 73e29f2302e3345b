"""A definition checked against the workspace: its tags exist, its attributes
exist and are compared the way their type allows, with values of that type."""

from __future__ import annotations

from typing import Any

from parley.core.errors import ActionError
from parley.crm.attributes import clean_value
from parley.crm.models import AttributeDefinition, Tag
from parley.segments.definition import (
    ATTRIBUTE_OPS,
    PRESENCE_OPS,
    AttributeCondition,
    Definition,
    TagsCondition,
    parse_definition,
)


def validate_definition(workspace_id: int, raw: Definition | dict[str, Any] | Any) -> Definition:
    """The definition ready to save (two queries at most), or ActionError
    with ``field`` like 'conditions[2].value' and what to change."""
    definition = parse_definition(raw)
    tag_ids = {t for c in definition.conditions if isinstance(c, TagsCondition) for t in c.value}
    known_tags = (
        set(
            Tag.objects.filter(workspace_id=workspace_id, id__in=tag_ids).values_list(
                "id", flat=True
            )
        )
        if tag_ids
        else set()
    )
    keys = {c.key for c in definition.conditions if isinstance(c, AttributeCondition)}
    attributes = (
        {
            d.key: d
            for d in AttributeDefinition.objects.filter(workspace_id=workspace_id, key__in=keys)
        }
        if keys
        else {}
    )
    for i, condition in enumerate(definition.conditions):
        where = f"Condition {i + 1}"
        if isinstance(condition, TagsCondition):
            missing = [t for t in condition.value if t not in known_tags]
            if missing:
                raise ActionError(
                    f"{where}: there is no tag with id {missing[0]} in this workspace "
                    "(deleted?); pick tags that exist (GET /api/v1/tags lists them).",
                    code="unknown_tag",
                    field=f"conditions[{i}].value",
                )
        elif isinstance(condition, AttributeCondition):
            _check_attribute(condition, attributes.get(condition.key), i, where)
    return definition


def _check_attribute(
    condition: AttributeCondition, attribute: AttributeDefinition | None, i: int, where: str
) -> None:
    if attribute is None:
        raise ActionError(
            f"{where}: there is no custom attribute {condition.key!r}; "
            "define it first or pick another.",
            code="unknown_attribute",
            field=f"conditions[{i}].key",
        )
    allowed = ATTRIBUTE_OPS[attribute.type]
    if condition.op not in allowed:
        raise ActionError(
            f"{where}: {attribute.label} is a {attribute.get_type_display().lower()} attribute; "
            f"its operators are {', '.join(allowed)}, not {condition.op!r}.",
            code="invalid_operator",
            field=f"conditions[{i}].op",
        )
    if condition.op in PRESENCE_OPS or attribute.type == AttributeDefinition.Type.DATE:
        return  # presence needs no value; dates and day counts were parsed already
    field = f"conditions[{i}].value"
    try:
        if isinstance(condition.value, list):
            condition.value = [clean_value(attribute, v) for v in condition.value]
        elif condition.value is not None:
            condition.value = clean_value(attribute, condition.value)
    except ActionError as exc:
        raise ActionError(f"{where}: {exc.message}", code=exc.code, field=field) from None
