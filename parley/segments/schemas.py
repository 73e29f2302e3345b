"""API shapes for segments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from parley.crm.schemas import ContactOut
from parley.segments.definition import Definition

DEFINITION_EXAMPLE: dict[str, Any] = {
    "match": "all",
    "conditions": [
        {"field": "tags", "op": "has_any", "value": [3, 7]},
        {"field": "attribute", "key": "plan", "op": "in", "value": ["gold", "platinum"]},
        {"field": "consent", "op": "in", "value": ["opted_in"]},
        {"field": "last_inbound_at", "op": "within_last_days", "value": 30},
    ],
}

CONDITIONS_HELP = """\
Each condition is {"field", "op", "value"} ("key" too for attributes):

- tags: has_any, has_all, has_none; value: tag ids
- attribute (custom attribute by key), operators by its type: text eq, neq, contains;
  number eq, neq, gt, gte, lt, lte, between ([low, high]); date before, after, on
  (YYYY-MM-DD), within_last_days, more_than_days_ago (days); boolean is_true, is_false;
  choice in, not_in (list); every type is_set, not_set. neq and not_in include contacts
  without a value.
- consent: in; value: unknown, opted_in, opted_out
- last_inbound_at, last_outbound_at, created_at: within_last_days, more_than_days_ago
  (days), before, after, on (YYYY-MM-DD, the workspace's calendar day); never, ever
  (last_inbound_at and last_outbound_at)
- conversation_status: has_conversation_with_status, has_no_conversation_with_status;
  value: open, pending, snoozed, resolved
- name (saved or WhatsApp profile name), phone, email: contains, eq, is_set, not_set
"""


class ConditionIn(Schema):
    field: str = Field(examples=["tags"], description="What the condition tests")
    op: str = Field(examples=["has_any"], description="The operator; depends on the field")
    key: str | None = Field(None, examples=["plan"], description="Attribute key (attribute only)")
    value: Any = Field(None, examples=[[3, 7]], description="Depends on the operator")


class DefinitionIn(Schema):
    match: str = Field("all", examples=["all"], description="all: every condition; any: one")
    conditions: list[ConditionIn] = Field(
        default_factory=list, examples=[DEFINITION_EXAMPLE["conditions"]]
    )


DefinitionIn.model_config["json_schema_extra"] = {"description": CONDITIONS_HELP}


class SegmentIn(Schema):
    name: str = Field(examples=["Engaged gold customers"])
    description: str = Field("", examples=["Gold or platinum, opted in, wrote this month"])
    definition: DefinitionIn = Field(examples=[DEFINITION_EXAMPLE])


class SegmentUpdateIn(Schema):
    name: str | None = Field(None, examples=["Engaged gold customers"])
    description: str | None = Field(None, examples=["Gold or platinum, opted in"])
    definition: DefinitionIn | None = Field(None, examples=[DEFINITION_EXAMPLE])


class PreviewIn(Schema):
    definition: DefinitionIn = Field(examples=[DEFINITION_EXAMPLE])


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    definition: Definition
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime


class SegmentPage(Schema):
    items: list[SegmentOut]
    next_cursor: str | None


class CountOut(Schema):
    count: int


class PreviewOut(Schema):
    count: int
    sample: list[ContactOut]
