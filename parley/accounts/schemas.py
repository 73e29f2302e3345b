"""API shapes for the caller's profile and API tokens."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class MeOut(Schema):
    kind: str = Field(description="'user' for a session, 'token' for an API token")
    user_id: int | None
    email: str | None
    name: str | None
    workspace_id: int
    workspace_slug: str
    role: str
    token_name: str | None = None
    scopes: list[str] | None = None


class MeUpdateIn(Schema):
    name: str = Field(max_length=120, examples=["Dana Scully"])


class WorkspaceLinkOut(Schema):
    id: int
    name: str
    slug: str
    role: str


class TokenOut(Schema):
    id: int
    name: str
    key_id: str
    scopes: list[str]
    state: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    rotated_at: datetime | None
    last_used_at: datetime | None


class TokenSecretOut(TokenOut):
    token: str = Field(description="The secret token. It is shown only in this response.")


class TokenPage(Schema):
    items: list[TokenOut]
    next_cursor: str | None


class TokenIn(Schema):
    name: str = Field(max_length=100, examples=["CRM sync"])
    scopes: list[str] = Field(examples=[["workspace:read", "members:read"]])
    expires_at: datetime | None = Field(None, examples=["2027-01-01T00:00:00Z"])
