"""Shapes of the workflows API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

EXAMPLE_DEFINITION: dict[str, Any] = {
    "trigger": {"type": "message_received", "match": "keywords", "keywords": ["pricing"]},
    "steps": [
        {"type": "add_tags", "tags": ["Lead"]},
        {
            "type": "ask_buttons",
            "text": "Hi {{contact.first_name}}, shall we call you?",
            "buttons": ["Yes", "Later"],
            "timeout_minutes": 60,
            "branches": {
                "b1": [{"type": "assign", "mode": "team", "team_id": 2}],
                "b2": [
                    {"type": "wait", "minutes": 1440},
                    {"type": "send_text", "text": "Still there?"},
                ],
                "timeout": [{"type": "add_tags", "tags": ["No answer"]}],
            },
        },
    ],
}


class WorkflowOut(Schema):
    id: int
    name: str
    description: str
    enabled: bool
    trigger_type: str = Field(description="Of the live version ('' before the first publish)")
    live_version: int | None = Field(None, description="The live version's number")
    draft: dict[str, Any] = Field(description="The definition being edited")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_live_version(obj: Any) -> int | None:
        version = obj.live_version
        return version.number if version is not None else None


class WorkflowPage(Schema):
    items: list[WorkflowOut]
    next_cursor: str | None


class WorkflowIn(Schema):
    name: str = Field(examples=["Pricing questions"])
    description: str = ""
    definition: dict[str, Any] | None = Field(
        None,
        description=(
            'The draft: {"trigger": {...}, "steps": [...]}. Step types: condition, send_text, '
            "send_template, ask_buttons, add_tags, remove_tags, set_attribute, assign, "
            "set_status, add_note, create_task, create_deal, move_deal, drip_enrol, "
            "drip_remove, wait, http_request, stop."
        ),
        examples=[EXAMPLE_DEFINITION],
    )


class WorkflowUpdateIn(Schema):
    name: str | None = Field(None, examples=["Pricing questions (v2)"])
    description: str | None = None
    definition: dict[str, Any] | None = Field(None, examples=[EXAMPLE_DEFINITION])
    enabled: bool | None = Field(None, description="Turning on needs a published version")


class ProblemOut(Schema):
    path: str = Field(description="The step's path ('' for the trigger or the whole)")
    message: str


class VersionOut(Schema):
    number: int
    definition: dict[str, Any]
    published_at: datetime


class RunIn(Schema):
    contact_id: int | None = Field(None, examples=[42], description="Required")
    input: dict[str, Any] = Field(
        default_factory=dict,
        description="Available to the steps as vars.input",
        examples=[{"order": "A-1001", "total": 59.9}],
    )


class RunStartedOut(Schema):
    run_ids: list[int]


class RunOut(Schema):
    id: int
    workflow_id: int
    version: int
    contact_id: int | None
    status: str
    cursor: str = Field(description="Path of the step it is on ('' when finished)")
    error: str
    started_at: datetime
    finished_at: datetime | None
    execution_id: int | None

    @staticmethod
    def resolve_version(obj: Any) -> int:
        return int(obj.version.number)


class DryRunIn(Schema):
    contact_id: int | None = Field(None, examples=[42])
    text: str = Field("", examples=["pricing please"])


class DryRunLineOut(Schema):
    path: str
    type: str
    label: str
    detail: str


class DryRunOut(Schema):
    fires: bool = Field(description="Whether the trigger would fire for this message")
    steps: list[DryRunLineOut]
