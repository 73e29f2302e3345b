"""API shapes for conversations, messages, contacts and quick replies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from parley.crm.schemas import ContactOut, TagOut


class ConversationOut(Schema):
    id: int
    contact: ContactOut
    channel_id: int
    status: str
    snoozed_until: datetime | None
    assignee_id: int | None
    last_message_at: datetime
    last_message_preview: str
    last_inbound_at: datetime | None
    unread_count: int
    window_open: bool = Field(
        description="Free-form messages allowed (the customer wrote in the last 24 h)"
    )
    tags: list[TagOut] = []


class ConversationPage(Schema):
    items: list[ConversationOut]
    next_cursor: str | None


class AssignIn(Schema):
    assignee_id: int | None = Field(examples=[42])


class StatusIn(Schema):
    status: Literal["open", "pending", "snoozed", "resolved"] = Field(examples=["resolved"])
    snoozed_until: datetime | None = Field(None, examples=["2026-12-01T09:00:00Z"])


class MessageOut(Schema):
    id: int
    conversation_id: int
    direction: str
    wamid: str | None
    type: str
    text: str
    status: str
    error_code: int | None
    error_reason: str
    reply_to_id: int | None
    sent_by_id: int | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    payload: dict[str, Any]


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class SendIn(Schema):
    """One message to send. ``type`` picks which other fields apply."""

    type: Literal[
        "text",
        "template",
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "buttons",
        "list",
        "reaction",
    ] = Field(examples=["text"])
    text: str = Field("", examples=["Hello! Your order has shipped."])
    reply_to_id: int | None = Field(None, description="Quote this message of the conversation")
    template_name: str = Field("", examples=["order_update"])
    language: str = Field("en_US", examples=["en_US"])
    parameters: list[str] = Field(default_factory=list, examples=[["Ada", "#1042"]])
    media_id: str = Field("", description="From POST /media")
    caption: str = ""
    filename: str = ""
    buttons: list[str] = Field(default_factory=list, examples=[["Yes", "No"]])
    list_button: str = Field("", examples=["Choose"])
    rows: list[str] = Field(default_factory=list, examples=[["Small", "Medium", "Large"]])
    message_id: int | None = Field(None, description="For reactions: the message reacted to")
    emoji: str = Field("", examples=["👍"])


class QuickReplyIn(Schema):
    shortcut: str = Field(examples=["thanks"])
    title: str = Field("", examples=["Thank you"])
    body: str = Field(examples=["Thanks {{first_name}}, we are on it!"])


class QuickReplyOut(Schema):
    id: int
    shortcut: str
    title: str
    body: str


class NoteIn(Schema):
    body: str = Field(examples=["@dana can you check the refund?"])


class NoteOut(Schema):
    id: int
    author_id: int | None
    body: str
    mentions: list[int]
    created_at: datetime


class TagConversationsIn(Schema):
    conversation_ids: list[int] = Field(examples=[[101, 102]])
