"""API shapes for contacts and tags."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema


class TagOut(Schema):
    id: int
    name: str
    color: str


class ContactOut(Schema):
    id: int
    wa_id: str
    phone_e164: str
    name: str
    profile_name: str
    email: str
    consent: str
    consent_changed_at: datetime | None
    consent_source: str
    created_at: datetime
    last_inbound_at: datetime | None
    attributes: dict[str, Any]
    tags: list[TagOut] = []

    @staticmethod
    def resolve_tags(obj: object) -> list[object]:
        return [ct.tag for ct in obj.contact_tags.all()]  # type: ignore[attr-defined]


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class ContactIn(Schema):
    phone: str = Field(
        examples=["+49 151 23456789"],
        description="Any format; the workspace's default country fills in a missing country code",
    )
    name: str = Field("", examples=["Ada Lovelace"])
    email: str = Field("", examples=["ada@example.com"])


class ContactUpdateIn(Schema):
    name: str | None = Field(None, examples=["Ada King"])
    phone: str | None = Field(
        None, examples=["+44 7911 123456"], description="Refused if another contact has it"
    )
    email: str | None = Field(None, examples=["ada@example.org"])
    attributes: dict[str, Any] | None = Field(
        None,
        examples=[{"plan": "gold", "renewal": "2027-01-31", "seats": 12}],
        description="Custom attribute values by key; null clears one",
    )


class AttributeIn(Schema):
    key: str = Field(examples=["plan"])
    label: str = Field("", examples=["Plan"])
    type: str = Field(examples=["choice"], description="text, number, date, boolean or choice")
    choices: list[str] = Field(default_factory=list, examples=[["free", "gold"]])


class AttributeOut(Schema):
    id: int
    key: str
    label: str
    type: str
    choices: list[str]


class ConsentIn(Schema):
    consent: str = Field(examples=["opted_out"], description="unknown, opted_in or opted_out")
    source: str = Field("agent", examples=["phone call"])


class TagIn(Schema):
    name: str = Field(examples=["VIP"])
    color: str = Field("#128c7e", examples=["#e11d48"])


class TagContactsIn(Schema):
    contact_ids: list[int] = Field(examples=[[12, 13, 14]])


class TagContactsOut(Schema):
    changed: int


class MergeIn(Schema):
    duplicate_id: int = Field(
        examples=[431],
        description="The contact to fold into this one; it is deleted after the move",
    )


class TimelineEntryOut(Schema):
    at: datetime
    kind: str = Field(examples=["message"])
    title: str = Field(examples=["Customer wrote"])
    body: str
    actor: str
    url: str = Field(description="Path inside the workspace's web app, e.g. inbox/12/")


class TimelinePage(Schema):
    items: list[TimelineEntryOut]
    next_before: datetime | None = Field(
        description="Pass back as `before` for older entries; null at the beginning"
    )
