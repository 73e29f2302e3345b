"""API shapes for drip sequences."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Literal

from ninja import Field, Schema

TriggerName = Literal["tag_added", "contact_created", "segment_entered", "keyword", "manual", "api"]
UnitName = Literal["minutes", "hours", "days"]
ConditionName = Literal["", "has_tag", "lacks_tag", "in_segment", "not_in_segment"]


class SequenceOut(Schema):
    id: int
    name: str
    channel_id: int
    active: bool
    trigger: str
    trigger_tag_id: int | None
    trigger_segment_id: int | None
    keywords: list[str]
    exit_on_reply: bool
    exit_tag_id: int | None
    goal_tag_id: int | None
    goal_segment_id: int | None
    activated_at: datetime | None
    created_at: datetime
    updated_at: datetime
    enrolled_count: int | None = Field(None, description="All enrolments, ever (lists only)")
    active_count: int | None = Field(None, description="Enrolments in progress (lists only)")


class SequencePage(Schema):
    items: list[SequenceOut]
    next_cursor: str | None


class SequenceIn(Schema):
    name: str = Field(examples=["Trial onboarding"])
    channel_id: int | None = Field(None, examples=[3], description="The number it sends from")
    trigger: TriggerName = Field(
        "manual",
        examples=["tag_added"],
        description=(
            "What enrols a contact: a tag added, the contact created, a segment entered "
            "(checked every minute; members at activation are the baseline), an inbound "
            "text equal to a keyword, or only by hand / the API."
        ),
    )
    trigger_tag_id: int | None = Field(None, examples=[12], description="For tag_added")
    trigger_segment_id: int | None = Field(None, examples=[4], description="For segment_entered")
    keywords: list[str] = Field(
        default_factory=list,
        examples=[["trial", "start trial"]],
        description="For keyword: case-insensitive, the whole (trimmed) message",
    )
    exit_on_reply: bool = Field(True, description="A message from the contact ends the enrolment")
    exit_tag_id: int | None = Field(
        None, examples=[12], description="Removing this tag ends the enrolment"
    )
    goal_tag_id: int | None = Field(
        None, examples=[15], description="Carrying this tag ends the enrolment (goal reached)"
    )
    goal_segment_id: int | None = Field(
        None, examples=[7], description="Being in this segment ends the enrolment (goal reached)"
    )


class SequenceUpdateIn(Schema):
    """Only the fields sent change (null clears an optional tag or segment)."""

    name: str | None = Field(None, examples=["Trial onboarding (v2)"])
    channel_id: int | None = Field(None, examples=[3])
    trigger: TriggerName | None = Field(None, examples=["keyword"])
    trigger_tag_id: int | None = Field(None, examples=[12])
    trigger_segment_id: int | None = Field(None, examples=[4])
    keywords: list[str] | None = Field(None, examples=[["join"]])
    exit_on_reply: bool | None = Field(None, examples=[False])
    exit_tag_id: int | None = Field(None, examples=[12])
    goal_tag_id: int | None = Field(None, examples=[15])
    goal_segment_id: int | None = Field(None, examples=[7])


class StepOut(Schema):
    id: int
    sequence_id: int
    position: int
    template_id: int | None
    mapping: dict[str, Any]
    text: str
    delay_amount: int
    delay_unit: str
    window_days: list[int]
    window_start: time | None
    window_end: time | None
    condition: str
    condition_tag_id: int | None
    condition_segment_id: int | None

    @staticmethod
    def resolve_template_id(obj: Any) -> int | None:
        return obj.content.template_id  # type: ignore[no-any-return]

    @staticmethod
    def resolve_mapping(obj: Any) -> dict[str, Any]:
        return dict(obj.content.mapping or {})

    @staticmethod
    def resolve_text(obj: Any) -> str:
        return str(obj.content.text)


MAPPING_EXAMPLE = {
    "1": {"source": "field", "field": "first_name", "fallback": "there"},
    "2": {"source": "static", "value": "TRIAL20"},
}


class StepIn(Schema):
    """A template with its variable mapping, or a free text (sent only inside
    the 24-hour window; outside it the step fails with the reason)."""

    template_id: int | None = Field(None, examples=[21])
    mapping: dict[str, Any] = Field(default_factory=dict, examples=[MAPPING_EXAMPLE])
    text: str = Field("", examples=["Thanks for joining! Reply here with any question."])
    delay_amount: int = Field(
        0, examples=[2], description="After the previous step (after enrolment for the first)"
    )
    delay_unit: UnitName = Field("days", examples=["days"])
    window_days: list[int] = Field(
        default_factory=list,
        examples=[[0, 1, 2, 3, 4]],
        description="Weekdays the window is open, 0 = Monday; empty: any time",
    )
    window_start: time | None = Field(
        None, examples=["09:00"], description="Workspace's local time"
    )
    window_end: time | None = Field(None, examples=["17:30"])
    condition: ConditionName = Field(
        "",
        examples=["lacks_tag"],
        description="Checked just before sending; a contact failing it skips this step",
    )
    condition_tag_id: int | None = Field(None, examples=[15])
    condition_segment_id: int | None = Field(None, examples=[7])


class StepUpdateIn(Schema):
    """Only the fields sent change. Send template_id (with mapping) or text
    to change what is sent."""

    template_id: int | None = Field(None, examples=[21])
    mapping: dict[str, Any] | None = Field(None, examples=[MAPPING_EXAMPLE])
    text: str | None = Field(None, examples=["See you tomorrow!"])
    delay_amount: int | None = Field(None, examples=[3])
    delay_unit: UnitName | None = Field(None, examples=["hours"])
    window_days: list[int] | None = Field(None, examples=[[5, 6]])
    window_start: time | None = Field(None, examples=["10:00"])
    window_end: time | None = Field(None, examples=["14:00"])
    condition: ConditionName | None = Field(None, examples=["has_tag"])
    condition_tag_id: int | None = Field(None, examples=[15])
    condition_segment_id: int | None = Field(None, examples=[7])
    position: int | None = Field(None, examples=[1], description="Move the step to this place")


class RunOut(Schema):
    step_id: int
    state: str = Field(
        description="queued, paused, sending, sent, delivered, read, failed, skipped or cancelled"
    )
    reason: str
    at: datetime | None


class EnrolmentOut(Schema):
    id: int
    sequence_id: int
    contact_id: int
    state: str
    exit_reason: str
    source: str
    current_step_id: int | None
    enrolled_at: datetime
    ended_at: datetime | None
    steps: list[RunOut] = Field(default_factory=list)


class EnrolmentPage(Schema):
    items: list[EnrolmentOut]
    next_cursor: str | None


class EnrolIn(Schema):
    contact_id: int | None = Field(None, examples=[42], description="One contact")
    contact_ids: list[int] | None = Field(
        None, examples=[[42, 43]], description="Or many (up to 10,000)"
    )


class EnrolManyOut(Schema):
    enrolled: int
    already: int = Field(description="Already in the sequence")
    opted_out: int
    not_found: int


class StepStatsOut(Schema):
    step_id: int
    position: int
    total: int
    queued: int
    paused: int
    sent: int
    delivered: int
    read: int
    replied: int
    failed: int
    skipped: int
    cancelled: int


class SendOut(Schema):
    item_id: int
    enrolment_id: int
    contact_id: int
    step_id: int | None
    step_position: int | None
    state: str
    reason: str
    due_at: datetime | None
    finished_at: datetime | None
