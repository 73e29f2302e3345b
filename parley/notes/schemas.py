"""API shapes for contact notes."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from parley.notes.models import BODY_MAX


class NoteOut(Schema):
    id: int
    contact_id: int
    author_id: int | None
    author_name: str
    body: str = Field(description="The markdown source")
    body_html: str = Field(description="Rendered and sanitised; safe to insert as HTML")
    pinned: bool
    mentioned_user_ids: list[int]
    created_at: datetime
    edited_at: datetime | None


class NotePage(Schema):
    items: list[NoteOut]
    next_cursor: str | None


class NoteIn(Schema):
    body: str = Field(
        examples=["Called **Ana** about the invoice. @maria can you send the refund?"],
        description=f"Markdown, up to {BODY_MAX:,} characters. `@handle` mentions a member "
        "(see GET /notes/mentionable) and notifies them once.",
    )
    pinned: bool = Field(False, examples=[False])


class NoteUpdateIn(Schema):
    body: str = Field(
        examples=["Refund sent on 3 May. @maria @jon FYI"],
        description="The new markdown; members mentioned for the first time are notified.",
    )


class MentionableOut(Schema):
    user_id: int
    handle: str = Field(description="Write @handle in a note to mention this member")
    name: str
