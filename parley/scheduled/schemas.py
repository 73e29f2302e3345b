"""API shapes for scheduled messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from parley.scheduled import when as when_

MAPPING_EXAMPLE = {
    "1": {"source": "field", "field": "first_name", "fallback": "there"},
    "2": {"source": "static", "value": "Friday 10:00"},
}


class ScheduledOut(Schema):
    id: int
    contact_id: int
    contact_name: str
    channel_id: int
    kind: str = Field(examples=["text"], description="text or template")
    text: str
    template_id: int | None
    template_name: str | None
    mapping: dict[str, Any]
    fallback_template_id: int | None
    fallback_template_name: str | None
    fallback_mapping: dict[str, Any]
    send_at: datetime = Field(description="When it goes out, in UTC")
    local_time: str = Field(
        examples=["2026-03-29T09:00:00"], description="The wall time as it was entered"
    )
    timezone: str = Field(
        examples=["Europe/Berlin"],
        description="The zone it was entered in: the workspace's, or UTC±hh:mm for an offset",
    )
    display_time: str = Field(
        examples=["Sun 29 Mar 2026, 09:00 CEST"],
        description="send_at in the workspace's timezone, with the zone's abbreviation",
    )
    time_note: str = Field(
        description="Said about the time once, e.g. which of two 02:30s a fall-back night has"
    )
    status: str = Field(
        examples=["scheduled"], description="scheduled, sending, sent, failed, skipped, cancelled"
    )
    reason: str = Field(description="Why it failed, was skipped or is waiting")
    window_note: str = Field(
        "", description="For a text: the 24-hour window will have closed by its time (and so?)"
    )
    message_id: int | None = Field(description="The inbox message, once it went out")
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_contact_name(obj: Any) -> str:
        return str(obj.contact.display_name)

    @staticmethod
    def resolve_text(obj: Any) -> str:
        return str(obj.content.text)

    @staticmethod
    def resolve_template_id(obj: Any) -> int | None:
        return obj.content.template_id  # type: ignore[no-any-return]

    @staticmethod
    def resolve_template_name(obj: Any) -> str | None:
        template = obj.content.template
        return f"{template.name} ({template.language})" if template is not None else None

    @staticmethod
    def resolve_mapping(obj: Any) -> dict[str, Any]:
        return dict(obj.content.mapping or {})

    @staticmethod
    def resolve_fallback_template_id(obj: Any) -> int | None:
        return obj.content.fallback_template_id  # type: ignore[no-any-return]

    @staticmethod
    def resolve_fallback_template_name(obj: Any) -> str | None:
        template = obj.content.fallback_template
        return f"{template.name} ({template.language})" if template is not None else None

    @staticmethod
    def resolve_fallback_mapping(obj: Any) -> dict[str, Any]:
        return dict(obj.content.fallback_mapping or {})

    @staticmethod
    def resolve_timezone(obj: Any) -> str:
        return str(obj.timezone_name)

    @staticmethod
    def resolve_display_time(obj: Any) -> str:
        return when_.label(obj.send_at, when_.zone(obj.workspace.timezone))

    @staticmethod
    def resolve_window_note(obj: Any) -> str:
        return str(getattr(obj, "window_note", ""))

    @staticmethod
    def resolve_message_id(obj: Any) -> int | None:
        return obj.item.message_id if obj.item is not None else None


class ScheduledPage(Schema):
    items: list[ScheduledOut]
    next_cursor: str | None


SEND_AT_HELP = (
    "With an offset (2026-03-29T09:00:00+02:00, or Z) it is that instant. Without one "
    "(2026-03-29T09:00:00) it is a wall time in the workspace's timezone: a time the clocks "
    "skip at a spring-forward change is refused (400 nonexistent_time); one a fall-back "
    "repeats is read as its first occurrence (see time_note). A time in the past is refused."
)


class ScheduledIn(Schema):
    contact_id: int = Field(examples=[42])
    channel_id: int | None = Field(
        None,
        examples=[3],
        description="The number to send from; defaults to the workspace's only active number, "
        "else the one the contact last talked to",
    )
    send_at: datetime = Field(examples=["2026-03-29T09:00:00"], description=SEND_AT_HELP)
    kind: str | None = Field(
        None,
        examples=["text"],
        description="text (only inside the 24-hour window at send time) or template; "
        "defaults to template when template_id is given",
    )
    text: str = Field("", examples=["Hi Ana, your table for four is ready at 19:30."])
    template_id: int | None = Field(None, examples=[12], description="An approved template")
    mapping: dict[str, Any] = Field(
        default_factory=dict,
        examples=[MAPPING_EXAMPLE],
        description="Per template variable: field, attribute or static source, with a fallback",
    )
    fallback_template_id: int | None = Field(
        None,
        examples=[13],
        description="For a text: sent instead when the 24-hour window has closed by then",
    )
    fallback_mapping: dict[str, Any] = Field(default_factory=dict, examples=[MAPPING_EXAMPLE])


class ScheduledUpdateIn(Schema):
    """Only the fields sent change. Refused with 409 once it has gone out."""

    send_at: datetime | None = Field(
        None, examples=["2026-03-29T10:30:00+02:00"], description=SEND_AT_HELP
    )
    kind: str | None = Field(None, examples=["template"])
    text: str | None = Field(None, examples=["Hi Ana, see you at 20:00 instead."])
    template_id: int | None = Field(None, examples=[12])
    mapping: dict[str, Any] | None = Field(None, examples=[MAPPING_EXAMPLE])
    fallback_template_id: int | None = Field(
        None, examples=[13], description="null removes the fallback"
    )
    fallback_mapping: dict[str, Any] | None = Field(None, examples=[MAPPING_EXAMPLE])
