"""A segment's definition: typed conditions, and their parsing from JSON.

``parse_definition`` checks shape and operator/value agreement without the
database, so a stored definition can be compiled with no extra query.
Workspace facts (do these tags exist, what type is this attribute) are
checked by ``validation.validate_definition`` before anything is saved.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import pydantic
from ninja import Field, Schema

from parley.core.errors import ActionError
from parley.crm.attributes import KEY

MAX_CONDITIONS = 30
MAX_LIST = 100
MAX_DAYS = 36_500

Scalar = str | bool | int | float
# Attribute values keep their JSON type: {"seats": 5} and {"seats": "5"} differ.
AttributeValue = Scalar | list[Scalar] | None

TAG_OPS = ("has_any", "has_all", "has_none")
CONSENT_OPS = ("in",)
CONVERSATION_OPS = ("has_conversation_with_status", "has_no_conversation_with_status")
DATE_COLUMN_OPS = ("within_last_days", "more_than_days_ago", "before", "after", "on")
NULLABLE_DATE_OPS = ("never", "ever")
TEXT_COLUMN_OPS = ("contains", "eq", "is_set", "not_set")

# Custom attributes: operators by the attribute's type.
PRESENCE_OPS = ("is_set", "not_set")
ATTRIBUTE_OPS: dict[str, tuple[str, ...]] = {
    "text": ("eq", "neq", "contains", *PRESENCE_OPS),
    "number": ("eq", "neq", "gt", "gte", "lt", "lte", "between", *PRESENCE_OPS),
    "date": ("before", "after", "on", "within_last_days", "more_than_days_ago", *PRESENCE_OPS),
    "boolean": ("is_true", "is_false", *PRESENCE_OPS),
    "choice": ("in", "not_in", *PRESENCE_OPS),
}

TagOp = Literal["has_any", "has_all", "has_none"]
AttributeOp = Literal[
    "eq",
    "neq",
    "contains",
    "gt",
    "gte",
    "lt",
    "lte",
    "between",
    "before",
    "after",
    "on",
    "within_last_days",
    "more_than_days_ago",
    "is_true",
    "is_false",
    "in",
    "not_in",
    "is_set",
    "not_set",
]
DateColumnOp = Literal[
    "within_last_days", "more_than_days_ago", "before", "after", "on", "never", "ever"
]
TextColumnOp = Literal["contains", "eq", "is_set", "not_set"]
DateColumn = Literal["last_inbound_at", "last_outbound_at", "created_at"]
NULLABLE_DATE_COLUMNS = ("last_inbound_at", "last_outbound_at")
TextColumn = Literal["name", "phone", "email"]


class TagsCondition(Schema):
    """Contacts carrying any / all / none of these tags (crm tag ids)."""

    field: Literal["tags"]
    op: TagOp
    value: list[int]


class AttributeCondition(Schema):
    """A custom attribute (by key); the operators depend on its type."""

    field: Literal["attribute"]
    key: str
    op: AttributeOp
    value: AttributeValue = None


ConsentValue = Literal["unknown", "opted_in", "opted_out"]  # crm Consent (a test keeps them equal)
StatusValue = Literal["open", "pending", "snoozed", "resolved"]  # inbox Conversation.Status


class ConsentCondition(Schema):
    field: Literal["consent"]
    op: Literal["in"]
    value: list[ConsentValue]


class ConversationCondition(Schema):
    """The contact has (or has no) conversation in one of these statuses."""

    field: Literal["conversation_status"]
    op: Literal["has_conversation_with_status", "has_no_conversation_with_status"]
    value: list[StatusValue]


class DateColumnCondition(Schema):
    """When the contact last wrote, was last written to, or was created.
    Days are whole days back from now; dates are the workspace's calendar days."""

    field: DateColumn
    op: DateColumnOp
    value: int | datetime.date | None = None


class TextColumnCondition(Schema):
    """Name (either the saved name or the WhatsApp profile name), phone or email."""

    field: TextColumn
    op: TextColumnOp
    value: str | None = None


Condition = Annotated[
    TagsCondition
    | AttributeCondition
    | ConsentCondition
    | ConversationCondition
    | DateColumnCondition
    | TextColumnCondition,
    pydantic.Field(discriminator="field"),
]

FIELDS = (
    "tags",
    "attribute",
    "consent",
    "conversation_status",
    "last_inbound_at",
    "last_outbound_at",
    "created_at",
    "name",
    "phone",
    "email",
)


class Definition(Schema):
    """Who is in the segment: contacts matching all (or any) of the conditions.
    No conditions: every contact."""

    match: Literal["all", "any"] = "all"
    conditions: list[Condition] = Field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def _fail(message: str, field: str, code: str = "invalid_definition") -> ActionError:
    return ActionError(message, code=code, field=field)


def _where(loc: tuple[int | str, ...]) -> tuple[str, int | None]:
    """pydantic's error location as 'conditions[2].value', and the condition's index."""
    parts = list(loc)
    index: int | None = None
    if len(parts) >= 2 and parts[0] == "conditions" and isinstance(parts[1], int):
        index = parts[1]
        rest = parts[2:]
        if rest and rest[0] in FIELDS:  # the union member pydantic names
            rest = rest[1:]
        attr = next((p for p in rest if isinstance(p, str)), None)
        return (f"conditions[{index}].{attr}" if attr else f"conditions[{index}]"), index
    return ".".join(str(p) for p in parts) or "definition", index


def _explain(error: Any) -> ActionError:
    field, index = _where(tuple(error.get("loc", ())))
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    where = f"Condition {index + 1}" if index is not None else "The definition"
    if kind == "union_tag_invalid":
        return _fail(
            f"{where}: {ctx.get('tag')!r} is not something a segment can test; "
            f"use one of {', '.join(FIELDS)}.",
            field.rsplit(".", 1)[0] + ".field" if index is not None else field,
        )
    if kind == "union_tag_not_found":
        return _fail(
            f"{where}: say what it tests with 'field' ({', '.join(FIELDS)}).",
            f"{field}.field",
        )
    if kind == "missing":
        return _fail(f"{where}: {field.rsplit('.', 1)[-1]} is required.", field)
    if kind == "literal_error" and field.endswith(".op"):
        return _fail(f"{where}: the operator must be {ctx.get('expected')}.", field)
    if kind == "literal_error" and field == "match":
        return _fail("match is 'all' (every condition) or 'any' (at least one).", field)
    message = str(error.get("msg", "is not valid"))
    return _fail(f"{where}: {field.rsplit('.', 1)[-1]}: {message}.", field)


def parse_definition(raw: Definition | Mapping[str, Any] | Any) -> Definition:
    """A checked Definition from JSON, or ActionError naming the condition to fix."""
    if isinstance(raw, Definition):
        return raw
    if isinstance(raw, pydantic.BaseModel):
        raw = raw.model_dump()
    if not isinstance(raw, Mapping):
        raise _fail(
            'A definition is an object like {"match": "all", "conditions": [...]}.',
            "definition",
        )
    conditions = raw.get("conditions")
    if isinstance(conditions, list) and len(conditions) > MAX_CONDITIONS:
        raise _fail(f"A segment has at most {MAX_CONDITIONS} conditions.", "conditions")
    try:
        parsed = Definition.model_validate(dict(raw))
    except pydantic.ValidationError as exc:
        raise _explain(exc.errors()[0]) from None
    parsed.conditions = [_check(c, i) for i, c in enumerate(parsed.conditions)]
    return parsed


# --- Operator and value agreement -------------------------------------------


def _days(value: Any, where: str, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _fail(f"{where}: give a number of days, e.g. 30.", field)
    try:
        days = int(value)
    except ValueError:
        raise _fail(f"{where}: give a number of days, e.g. 30, not {value!r}.", field) from None
    if not 1 <= days <= MAX_DAYS:
        raise _fail(f"{where}: the number of days is between 1 and {MAX_DAYS:,}.", field)
    return days


def _date(value: Any, where: str, field: str) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise _fail(f"{where}: give a date like 2026-12-31, not {value!r}.", field) from None


def _number(value: Any, where: str, field: str) -> int | float:
    if isinstance(value, bool) or value is None or isinstance(value, list):
        raise _fail(f"{where}: give a number, e.g. 10.", field)
    try:
        number = float(str(value).replace(",", "").strip())
    except ValueError:
        raise _fail(f"{where}: give a number, not {value!r}.", field) from None
    if not math.isfinite(number):
        raise _fail(f"{where}: give a finite number.", field)
    return int(number) if number.is_integer() else number


def _ids(values: list[Any], where: str, field: str, what: str) -> list[Any]:
    if not values:
        raise _fail(f"{where}: pick at least one {what}.", field)
    if len(values) > MAX_LIST:
        raise _fail(f"{where}: at most {MAX_LIST} {what}s per condition.", field)
    return list(dict.fromkeys(values))


def _check(condition: Any, i: int) -> Any:
    where = f"Condition {i + 1}"
    field = f"conditions[{i}].value"
    if isinstance(condition, TagsCondition):
        condition.value = _ids(condition.value, where, field, "tag")
    elif isinstance(condition, ConsentCondition):
        condition.value = _ids(condition.value, where, field, "consent state")
    elif isinstance(condition, ConversationCondition):
        condition.value = _ids(condition.value, where, field, "status")
    elif isinstance(condition, DateColumnCondition):
        _check_date_column(condition, where, field)
    elif isinstance(condition, TextColumnCondition):
        if condition.op in PRESENCE_OPS:
            condition.value = None
        else:
            text = (condition.value or "").strip()
            if not text:
                raise _fail(f"{where}: type the {condition.field} to look for.", field)
            if len(text) > 200:
                raise _fail(f"{where}: at most 200 characters.", field)
            if condition.field == "phone" and not any(ch.isdigit() for ch in text):
                raise _fail(f"{where}: a phone number needs digits.", field)
            condition.value = text
    elif isinstance(condition, AttributeCondition):
        _check_attribute(condition, i, where, field)
    return condition


def _check_date_column(condition: DateColumnCondition, where: str, field: str) -> None:
    op = condition.op
    if op in NULLABLE_DATE_OPS:
        if condition.field not in NULLABLE_DATE_COLUMNS:
            raise _fail(
                f"{where}: every contact has a {condition.field}; "
                f"use one of {', '.join(DATE_COLUMN_OPS)}.",
                field.replace(".value", ".op"),
            )
        condition.value = None
    elif op in ("within_last_days", "more_than_days_ago"):
        condition.value = _days(condition.value, where, field)
    else:
        if condition.value is None:
            raise _fail(f"{where}: give a date like 2026-12-31.", field)
        if isinstance(condition.value, int):
            raise _fail(f"{where}: give a date like 2026-12-31, not a number.", field)
        condition.value = _date(condition.value, where, field)


def _check_attribute(condition: AttributeCondition, i: int, where: str, field: str) -> None:
    key = condition.key.strip().lower()
    if not KEY.match(key):
        raise _fail(f"{where}: {condition.key!r} is not an attribute key.", f"conditions[{i}].key")
    condition.key = key
    op, value = condition.op, condition.value
    if op in ("is_set", "not_set", "is_true", "is_false"):
        condition.value = None
    elif op in ("within_last_days", "more_than_days_ago"):
        condition.value = _days(value, where, field)
    elif op in ("before", "after", "on"):
        if value is None or isinstance(value, list | bool):
            raise _fail(f"{where}: give a date like 2026-12-31.", field)
        condition.value = _date(value, where, field).isoformat()
    elif op in ("gt", "gte", "lt", "lte"):
        condition.value = _number(value, where, field)
    elif op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise _fail(f"{where}: 'between' takes two numbers, [lowest, highest].", field)
        low, high = (_number(v, where, field) for v in value)
        if low > high:
            raise _fail(f"{where}: the first number must not exceed the second.", field)
        condition.value = [low, high]
    elif op in ("in", "not_in"):
        values = value if isinstance(value, list) else [] if value is None else [value]
        if not all(isinstance(v, str) for v in values):
            raise _fail(f"{where}: the choices are text values.", field)
        condition.value = _ids(
            [str(v).strip() for v in values if str(v).strip()], where, field, "choice"
        )
    else:  # eq, neq, contains
        if value is None or (isinstance(value, str) and not value.strip()):
            raise _fail(f"{where}: give the value to compare with.", field)
        if isinstance(value, list):
            raise _fail(f"{where}: give one value, not a list.", field)
        if op == "contains" and not isinstance(value, str):
            raise _fail(f"{where}: 'contains' looks for text.", field)
        condition.value = value.strip() if isinstance(value, str) else value
