"""API shapes for auto-tag rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

KindName = Literal["keyword", "pattern", "first_message", "attribute"]
OpName = Literal["equals", "contains"]


class RuleOut(Schema):
    id: int
    name: str
    position: int = Field(description="1 runs first")
    enabled: bool
    kind: str
    keywords: list[str]
    pattern: str
    attribute_key: str
    attribute_op: str
    attribute_value: str
    contact_tag_ids: list[int]
    conversation_tag_ids: list[int]
    stop_after: bool
    hits: int = Field(0, description="Messages matched since the rule was created")
    last_hit_at: datetime | None = None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_hits(obj: Any) -> int:
        return int(getattr(obj, "hit_count", 0) or 0)

    @staticmethod
    def resolve_last_hit_at(obj: Any) -> datetime | None:
        return getattr(obj, "last_hit", None)


class RuleIn(Schema):
    """Keyword: any of ``keywords``, whole words, any case. Pattern: a Python
    regular expression searched in the text. First message: a contact's first
    message in a conversation. Attribute: the contact's attribute equals or
    contains ``attribute_value`` (any case)."""

    name: str = Field(examples=["Billing questions"])
    kind: KindName = Field("keyword", examples=["keyword"])
    keywords: list[str] = Field(
        default_factory=list, examples=[["invoice", "refund", "bank transfer"]]
    )
    pattern: str = Field("", examples=[r"(?i)order\s*#?\d{5,}"])
    attribute_key: str = Field("", examples=["plan"])
    attribute_op: OpName = Field("equals", examples=["equals"])
    attribute_value: str = Field("", examples=["enterprise"])
    contact_tag_ids: list[int] = Field(default_factory=list, examples=[[12]])
    conversation_tag_ids: list[int] = Field(default_factory=list, examples=[[15]])
    stop_after: bool = Field(False, description="Later rules do not run on a message this matched")
    enabled: bool = True


class RuleUpdateIn(Schema):
    """Only the fields sent change."""

    name: str | None = Field(None, examples=["Billing questions (EN)"])
    kind: KindName | None = None
    keywords: list[str] | None = Field(None, examples=[["invoice", "refund"]])
    pattern: str | None = None
    attribute_key: str | None = None
    attribute_op: OpName | None = None
    attribute_value: str | None = None
    contact_tag_ids: list[int] | None = None
    conversation_tag_ids: list[int] | None = None
    stop_after: bool | None = None
    enabled: bool | None = Field(None, examples=[False])


class OrderIn(Schema):
    rule_ids: list[int] = Field(
        examples=[[7, 3, 9]], description="Every rule of the workspace once, first to run first"
    )


class MoveIn(Schema):
    by: int = Field(examples=[-1], description="Negative moves up (earlier), positive down")


class PreviewMatchOut(Schema):
    message_id: int
    conversation_id: int
    contact_id: int
    text: str
    received_at: datetime
    first: bool
    spans: list[tuple[int, int]] = Field(description="[start, end) of each match in text")


class PreviewOut(Schema):
    scanned: int = Field(examples=[200], description="Recent inbound messages looked at")
    matches: list[PreviewMatchOut]
