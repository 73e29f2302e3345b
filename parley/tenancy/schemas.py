"""API shapes for workspaces, members, invitations and audit events."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from parley.tenancy.roles import Role


class WorkspaceOut(Schema):
    id: int
    name: str
    slug: str
    timezone: str
    default_country: str
    plan: str
    monthly_message_quota: int
    mark_read_on_open: bool
    created_at: datetime


class WorkspaceUpdateIn(Schema):
    name: str | None = Field(None, max_length=120, examples=["Acme Support"])
    timezone: str | None = Field(None, examples=["Europe/Berlin"])
    default_country: str | None = Field(None, min_length=2, max_length=2, examples=["DE"])
    mark_read_on_open: bool | None = Field(None, examples=[True])


class MemberOut(Schema):
    id: int
    user_id: int
    email: str
    name: str
    role: Role
    created_at: datetime

    @staticmethod
    def resolve_email(obj: object) -> str:
        return obj.user.email  # type: ignore[attr-defined, no-any-return]

    @staticmethod
    def resolve_name(obj: object) -> str:
        return obj.user.name  # type: ignore[attr-defined, no-any-return]


class MemberPage(Schema):
    items: list[MemberOut]
    next_cursor: str | None


class MemberUpdateIn(Schema):
    role: Role = Field(examples=["agent"])


class InvitationOut(Schema):
    id: int
    email: str
    role: Role
    state: str
    created_at: datetime
    expires_at: datetime


class InvitationCreatedOut(InvitationOut):
    accept_url: str = Field(description="The one-time link; it is shown only in this response.")


class InvitationPage(Schema):
    items: list[InvitationOut]
    next_cursor: str | None


class InvitationIn(Schema):
    email: str = Field(max_length=254, examples=["dana@example.com"])
    role: Role = Field(examples=["agent"])


class AuditEventOut(Schema):
    id: int
    actor_label: str
    action: str
    target: str
    data: dict[str, object]
    created_at: datetime


class AuditEventPage(Schema):
    items: list[AuditEventOut]
    next_cursor: str | None
