"""API shapes for message templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from parley.msgtemplates import render
from parley.whatsapp.models import MessageTemplate


class HeaderIn(Schema):
    format: str = Field(
        "NONE",
        examples=["TEXT"],
        description="NONE, TEXT, IMAGE, VIDEO or DOCUMENT",
    )
    text: str = Field(
        "",
        examples=["Order {{1}} update"],
        description="For TEXT: at most 60 characters and one variable",
    )
    example: str = Field(
        "",
        examples=["A-1042"],
        description="For TEXT with a variable: its example value. For media: an example "
        "media URL (https) or an upload handle.",
    )


class ButtonIn(Schema):
    type: str = Field(examples=["URL"], description="QUICK_REPLY, URL or PHONE_NUMBER")
    text: str = Field(examples=["Track order"], description="At most 25 characters")
    url: str = Field(
        "",
        examples=["https://shop.example.com/track/{{1}}"],
        description="For URL buttons; may end with {{1}}",
    )
    phone_number: str = Field("", examples=["+15551234567"], description="For PHONE_NUMBER")
    example: str = Field(
        "", examples=["A-1042"], description="For a URL ending in {{1}}: the example suffix"
    )


class TemplateIn(Schema):
    channel_id: int = Field(examples=[3], description="The channel (business account) to use")
    name: str = Field(examples=["order_update"], description="Lowercase letters, digits, _")
    category: str = Field(examples=["UTILITY"], description="MARKETING, UTILITY, AUTHENTICATION")
    language: str = Field(examples=["en_US"])
    header: HeaderIn | None = None
    body: str = Field(
        examples=["Hi {{1}}, your order {{2}} has shipped."],
        description="At most 1024 characters. Variables: {{1}}, {{2}} in order, or named "
        "like {{first_name}} (not both).",
    )
    footer: str = Field("", examples=["Reply STOP to opt out"])
    buttons: list[ButtonIn] = Field(
        default_factory=list,
        examples=[
            [
                {
                    "type": "URL",
                    "text": "Track order",
                    "url": "https://shop.example.com/track/{{1}}",
                    "example": "A-1042",
                },
                {"type": "QUICK_REPLY", "text": "Talk to us"},
            ]
        ],
    )
    examples: dict[str, str] = Field(
        default_factory=dict,
        examples=[{"1": "Ann", "2": "A-1042"}],
        description="An example value for each body variable, by its name",
    )


class TemplateEditIn(Schema):
    """The whole new definition; name and language cannot change."""

    category: str = Field(
        "", examples=["UTILITY"], description="Unchanged when empty; fixed once approved"
    )
    header: HeaderIn | None = None
    body: str = Field(examples=["Hi {{1}}, your order {{2}} is on its way."])
    footer: str = Field("", examples=["Reply STOP to opt out"])
    buttons: list[ButtonIn] = Field(default_factory=list)
    examples: dict[str, str] = Field(default_factory=dict, examples=[{"1": "Ann", "2": "A-1"}])


class VariableOut(Schema):
    key: str = Field(examples=["1"], description="The key to use in a variable mapping")
    label: str = Field(examples=["{{1}}"])
    component: str = Field(examples=["body"])
    kind: str = Field(examples=["text"])
    example: str = Field(examples=["Ann"])


class TemplateOut(Schema):
    id: int
    channel_id: int
    channel_name: str
    meta_id: str = Field(examples=["1234567890123456"])
    name: str = Field(examples=["order_update"])
    language: str = Field(examples=["en_US"])
    category: str = Field(examples=["UTILITY"])
    status: str = Field(examples=["APPROVED"])
    rejected_reason: str = Field(examples=[""])
    parameter_format: str = Field(examples=["POSITIONAL"])
    components: list[dict[str, Any]]
    variables: list[VariableOut]
    status_history: list[dict[str, Any]]
    synced_at: datetime
    submitted_at: datetime | None
    updated_at: datetime

    @staticmethod
    def resolve_channel_name(obj: MessageTemplate) -> str:
        return obj.channel.name

    @staticmethod
    def resolve_variables(obj: MessageTemplate) -> list[dict[str, str]]:
        return [
            {
                "key": v.key,
                "label": v.label,
                "component": v.component,
                "kind": v.kind,
                "example": v.example,
            }
            for v in render.variables(obj)
        ]


class TemplatePage(Schema):
    items: list[TemplateOut]
    next_cursor: str | None


class UsageOut(Schema):
    source: str = Field(examples=["broadcast"])
    source_id: int = Field(examples=[12])
    count: int = Field(examples=[5400])
    last_used_at: datetime


class PreviewIn(Schema):
    samples: dict[str, str] = Field(
        default_factory=dict,
        examples=[{"1": "Ann", "2": "A-1042", "header": "A-1042", "button:0": "A-1042"}],
        description="Sample value per variable key; the template's examples fill the rest",
    )


class PreviewButtonOut(Schema):
    type: str
    text: str
    detail: str


class PreviewOut(Schema):
    header_format: str
    header: str
    header_media: str
    body: str
    footer: str
    buttons: list[PreviewButtonOut]


class RenderIn(Schema):
    contact_id: int | None = Field(None, examples=[42])
    mapping: dict[str, Any] = Field(
        default_factory=dict,
        examples=[
            {
                "1": {"source": "field", "field": "first_name", "fallback": "there"},
                "2": {"source": "column", "column": "order", "fallback": ""},
            }
        ],
    )
    values: dict[str, str] = Field(default_factory=dict, examples=[{"order": "A-1042"}])


class RenderOut(Schema):
    payload: dict[str, Any]
    text: str


class SyncIn(Schema):
    channel_id: int | None = Field(None, examples=[3], description="Every channel when absent")


class SyncOut(Schema):
    channels: int
