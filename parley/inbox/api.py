"""Conversations, messages, contacts and quick replies over the API. Thin."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from parley.core.errors import ActionError
from parley.core.pagination import paginate, paginate_recent
from parley.crm.access import access_tag
from parley.crm.models import Tag
from parley.crm.schemas import TagContactsOut as TagConversationsOut
from parley.inbox import access, actions
from parley.inbox.conversation_tags import do_tag_conversations, tags_by_conversation
from parley.inbox.models import Conversation, Message, Note, QuickReply
from parley.inbox.schemas import (
    AssignIn,
    ConversationOut,
    ConversationPage,
    MessageOut,
    MessagePage,
    NoteIn,
    NoteOut,
    QuickReplyIn,
    QuickReplyOut,
    SendIn,
    StatusIn,
    TagConversationsIn,
)
from parley.inbox.window import window_open
from parley.tenancy.actor import Actor, actor_of
from parley.tenancy.roles import Cap

router = Router(tags=["inbox"])


def _conversation_out(conversation: Conversation, tags: list[Tag] | None = None) -> dict[str, Any]:
    if tags is None:
        tags = tags_by_conversation(conversation.workspace_id, [conversation.pk]).get(
            conversation.pk, []
        )
    out = ConversationOut.model_validate(
        {
            **conversation.__dict__,
            "contact": conversation.contact,
            "window_open": False,
            "tags": tags,
        }
    ).model_dump()
    out["window_open"] = window_open(conversation, timezone.now())
    return out


@router.get("/conversations", response=ConversationPage, summary="List conversations")
def list_conversations(
    request: HttpRequest,
    view: str = "all",
    status: str | None = None,
    q: str = "",
    tag_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Any:
    """`view` is `mine`, `unassigned` or `all`; newest activity first."""
    actor = actor_of(request)
    if view not in ("mine", "unassigned", "all"):
        raise ActionError("view is mine, unassigned or all.", code="invalid", field="view")
    if status is not None and status not in Conversation.Status.values:
        raise ActionError("Unknown status.", code="invalid", field="status")
    qs = access.conversation_list(actor, view=view, status=status, q=q)
    if tag_id is not None:
        qs = qs.filter(tags__tag_id=tag_id)
    page = paginate_recent(qs, field="last_message_at", cursor=cursor, limit=limit)
    tags = tags_by_conversation(actor.workspace.pk, [c.pk for c in page["items"]])
    return {
        "items": [_conversation_out(c, tags.get(c.pk, [])) for c in page["items"]],
        "next_cursor": page["next_cursor"],
    }


@router.get(
    "/conversations/{conversation_id}", response=ConversationOut, summary="Get a conversation"
)
def get_conversation(request: HttpRequest, conversation_id: int) -> Any:
    return _conversation_out(access.access_conversation(actor_of(request), conversation_id))


@router.post(
    "/conversations/{conversation_id}/assign",
    response=ConversationOut,
    summary="Assign or unassign",
)
def assign(request: HttpRequest, conversation_id: int, payload: AssignIn) -> Any:
    actor = actor_of(request)
    conversation = access.access_conversation(actor, conversation_id)
    return _conversation_out(
        actions.do_assign(actor=actor, conversation=conversation, user_id=payload.assignee_id)
    )


@router.post(
    "/conversations/{conversation_id}/status",
    response=ConversationOut,
    summary="Change status or snooze",
)
def change_status(request: HttpRequest, conversation_id: int, payload: StatusIn) -> Any:
    actor = actor_of(request)
    conversation = access.access_conversation(actor, conversation_id)
    actions.do_change_status(
        actor=actor,
        conversation=conversation,
        status=payload.status,
        snoozed_until=payload.snoozed_until,
    )
    return _conversation_out(conversation)


@router.get(
    "/conversations/{conversation_id}/messages",
    response=MessagePage,
    summary="List messages, newest first",
)
def list_messages(
    request: HttpRequest, conversation_id: int, cursor: str | None = None, limit: int = 50
) -> Any:
    actor = actor_of(request)
    conversation = access.access_conversation(actor, conversation_id)
    qs = Message.objects.filter(workspace=actor.workspace, conversation=conversation)
    return paginate(qs, cursor=cursor, limit=limit, newest_first=True)


def send(actor: Actor, conversation: Conversation, payload: SendIn) -> Message:
    reply_to = (
        access.access_message(actor, conversation, payload.reply_to_id)
        if payload.reply_to_id
        else None
    )
    if payload.type == "text":
        return actions.do_send_text(
            actor=actor, conversation=conversation, text=payload.text, reply_to=reply_to
        )
    if payload.type == "template":
        return actions.do_send_template(
            actor=actor,
            conversation=conversation,
            name=payload.template_name,
            language=payload.language,
            body_parameters=payload.parameters,
        )
    if payload.type == "buttons":
        return actions.do_send_buttons(
            actor=actor, conversation=conversation, body=payload.text, buttons=payload.buttons
        )
    if payload.type == "list":
        return actions.do_send_list(
            actor=actor,
            conversation=conversation,
            body=payload.text,
            button=payload.list_button,
            rows=payload.rows,
        )
    if payload.type == "reaction":
        if payload.message_id is None:
            raise ActionError("Name the message to react to.", code="required", field="message_id")
        target = access.access_message(actor, conversation, payload.message_id)
        return actions.do_react(
            actor=actor, conversation=conversation, message=target, emoji=payload.emoji
        )
    if not payload.media_id:
        raise ActionError(
            "Upload the file first and pass its media_id.", code="required", field="media_id"
        )
    return actions.do_send_media(
        actor=actor,
        conversation=conversation,
        kind=payload.type,
        media_id=payload.media_id,
        caption=payload.caption,
        filename=payload.filename,
    )


@router.post(
    "/conversations/{conversation_id}/messages",
    response={201: MessageOut},
    summary="Send a message",
    description=(
        "Queues the message and answers at once; its `status` then moves queued → sending → sent → "
        "delivered → read, or to failed with `error_reason`. Outside the 24-hour window only "
        "`template` is accepted (422 `window_closed` otherwise)."
    ),
)
def send_message(request: HttpRequest, conversation_id: int, payload: SendIn) -> Any:
    actor = actor_of(request)
    conversation = access.access_conversation(actor, conversation_id)
    try:
        message = send(actor, conversation, payload)
    except ActionError as exc:
        if exc.code == "window_closed":
            exc.status = 422
        raise
    return Status(201, message)


@router.post(
    "/conversations/{conversation_id}/files",
    response={201: MessageOut},
    summary="Send a file (image, video, audio or document)",
    description="Multipart upload. The kind follows the file's type; a caption is optional.",
)
def send_file(
    request: HttpRequest,
    conversation_id: int,
    file: File[UploadedFile],
    caption: Form[str] = "",
) -> Any:
    actor = actor_of(request)
    conversation = access.access_conversation(actor, conversation_id)
    message = actions.do_send_file(
        actor=actor,
        conversation=conversation,
        filename=file.name or "file",
        content=file.read(),
        mime_type=file.content_type or "",
        caption=caption,
    )
    return Status(201, message)


@router.post(
    "/conversations/{conversation_id}/notes", response={201: NoteOut}, summary="Add a private note"
)
def add_note(request: HttpRequest, conversation_id: int, payload: NoteIn) -> Any:
    actor = actor_of(request)
    conversation = access.access_conversation(actor, conversation_id)
    return Status(
        201, actions.do_add_note(actor=actor, conversation=conversation, body=payload.body)
    )


@router.get(
    "/conversations/{conversation_id}/notes", response=list[NoteOut], summary="Private notes"
)
def list_notes(request: HttpRequest, conversation_id: int) -> Any:
    actor = actor_of(request)
    conversation = access.access_conversation(actor, conversation_id)
    return list(
        Note.objects.filter(workspace=actor.workspace, conversation=conversation).order_by("id")[
            :500
        ]
    )


@router.get("/quick-replies", response=list[QuickReplyOut], summary="List quick replies")
def list_quick_replies(request: HttpRequest) -> Any:
    actor = actor_of(request)
    actor.require(Cap.CONVERSATIONS_READ)
    return list(QuickReply.objects.filter(workspace=actor.workspace).order_by("shortcut")[:1000])


@router.post("/quick-replies", response={201: QuickReplyOut}, summary="Create a quick reply")
def create_quick_reply(request: HttpRequest, payload: QuickReplyIn) -> Any:
    actor = actor_of(request)
    return Status(
        201,
        actions.do_save_quick_reply(
            actor=actor,
            quick_reply=None,
            shortcut=payload.shortcut,
            title=payload.title,
            body=payload.body,
        ),
    )


@router.get("/quick-replies/{quick_reply_id}", response=QuickReplyOut, summary="Get a quick reply")
def get_quick_reply(request: HttpRequest, quick_reply_id: int) -> Any:
    return access.access_quick_reply(actor_of(request), quick_reply_id)


@router.put("/quick-replies/{quick_reply_id}", response=QuickReplyOut, summary="Edit a quick reply")
def update_quick_reply(request: HttpRequest, quick_reply_id: int, payload: QuickReplyIn) -> Any:
    actor = actor_of(request)
    quick_reply = access.access_quick_reply(actor, quick_reply_id)
    return actions.do_save_quick_reply(
        actor=actor,
        quick_reply=quick_reply,
        shortcut=payload.shortcut,
        title=payload.title,
        body=payload.body,
    )


@router.delete(
    "/quick-replies/{quick_reply_id}", response={204: None}, summary="Delete a quick reply"
)
def delete_quick_reply(request: HttpRequest, quick_reply_id: int) -> Any:
    actor = actor_of(request)
    actions.do_delete_quick_reply(
        actor=actor, quick_reply=access.access_quick_reply(actor, quick_reply_id)
    )
    return Status(204, None)


@router.post(
    "/tags/{tag_id}/conversations",
    response=TagConversationsOut,
    summary="Tag many conversations",
)
def tag_conversations(request: HttpRequest, tag_id: int, payload: TagConversationsIn) -> Any:
    actor = actor_of(request)
    tag = access_tag(actor, tag_id)
    changed = do_tag_conversations(
        actor=actor, tag=tag, conversation_ids=payload.conversation_ids, add=True
    )
    return {"changed": changed}


@router.post(
    "/tags/{tag_id}/conversations/remove",
    response=TagConversationsOut,
    summary="Untag many conversations",
)
def untag_conversations(request: HttpRequest, tag_id: int, payload: TagConversationsIn) -> Any:
    actor = actor_of(request)
    tag = access_tag(actor, tag_id)
    changed = do_tag_conversations(
        actor=actor, tag=tag, conversation_ids=payload.conversation_ids, add=False
    )
    return {"changed": changed}
