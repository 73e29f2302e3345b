"""API shapes for outbound webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Field, Schema

from parley.integrations.catalogue import EVENT_TYPES

EventName = Literal[
    "message.received",
    "message.status_changed",
    "conversation.opened",
    "conversation.assigned",
    "conversation.resolved",
    "contact.created",
    "contact.updated",
    "contact.tag_changed",
    "deal.changed",
    "broadcast.finished",
    "workflow.failed",
]
assert set(EventName.__args__) == set(EVENT_TYPES)  # type: ignore[attr-defined]


class EndpointOut(Schema):
    id: int
    url: str
    description: str
    events: list[str]
    enabled: bool
    disabled_reason: str
    secret_hint: str = Field(description="The last characters of the current secret")
    previous_secret_expires_at: datetime | None = Field(
        None, description="Until when the previous secret also signs (after a rotation)"
    )
    consecutive_failures: int
    failing_since: datetime | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    created_at: datetime
    updated_at: datetime
    success_rate_24h: float | None = Field(
        None, description="Percent of attempts answered 2xx in the last 24 hours (null: none)"
    )
    attempts_24h: int | None = None


class EndpointPage(Schema):
    items: list[EndpointOut]
    next_cursor: str | None


class EndpointWithSecret(EndpointOut):
    secret: str = Field(
        description="The signing secret. Shown only now (creation or rotation): store it.",
        examples=["whsec_3q2+7wR..."],
    )


class EndpointIn(Schema):
    url: str = Field(
        examples=["https://example.com/hooks/parley"],
        description=(
            "http(s) URL on the public internet: hosts resolving to private, loopback, "
            "link-local, multicast or reserved addresses are refused (400, code refused_url)."
        ),
    )
    events: list[EventName] = Field(
        examples=[["message.received", "conversation.resolved"]], min_length=1
    )
    description: str = Field("", examples=["CRM sync"])


class EndpointUpdateIn(Schema):
    """Only the fields sent change."""

    url: str | None = Field(None, examples=["https://example.com/hooks/parley-v2"])
    events: list[EventName] | None = Field(None, examples=[["contact.created"]])
    description: str | None = Field(None, examples=["CRM sync (v2)"])
    enabled: bool | None = Field(
        None,
        examples=[True],
        description="Enabling again clears the failure count of an auto-disabled endpoint",
    )


class RotateIn(Schema):
    overlap_hours: float = Field(
        24,
        examples=[24],
        description="How long the old secret keeps signing too (0: drop it now; at most 168)",
    )


class DeliveryOut(Schema):
    id: int
    endpoint_id: int
    event_id: UUID
    event_type: str
    status: Literal["pending", "succeeded", "failed", "dead"]
    attempts: int
    next_attempt_at: datetime | None = Field(None, description="When pending: the next try")
    last_status_code: int | None
    last_latency_ms: float | None
    last_body_excerpt: str
    error: str
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_next_attempt_at(obj: Any) -> datetime | None:
        return obj.next_attempt_at if obj.status == "pending" else None


class AttemptOut(Schema):
    number: int
    url: str
    request_headers: dict[str, str]
    request_body: str
    response_status: int | None
    response_excerpt: str
    latency_ms: float | None
    error: str
    will_retry: bool
    at: datetime


class DeliveryDetailOut(DeliveryOut):
    payload: dict[str, Any]
    attempt_log: list[AttemptOut]


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


class EventTypeOut(Schema):
    type: str
    label: str
    example: dict[str, Any] = Field(description="The event's data, as delivered")
