"""Every state change in the inbox: sending, assigning, status, notes, quick replies."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from parley.core import domain_events
from parley.core.errors import ActionError, Conflict
from parley.core.events import publish
from parley.core.jobs import enqueue
from parley.inbox import quota
from parley.inbox.models import Conversation, Message, Note, QuickReply
from parley.inbox.window import window_open
from parley.tenancy.actor import Actor
from parley.tenancy.models import Membership
from parley.tenancy.roles import Cap

MAX_TEXT = 4096


def _queue(
    *,
    actor: Actor,
    conversation: Conversation,
    kind: str,
    content: dict[str, Any],
    text: str,
    reply_to: Message | None = None,
) -> Message:
    """Store the message as a queued row, then defer its send (same transaction)."""
    from parley.inbox.tasks import enqueue_send

    actor.require(Cap.CONVERSATIONS_WORK)
    if kind != "template" and not window_open(conversation, timezone.now()):
        raise ActionError(
            "The 24-hour window is closed: the customer last wrote more than 24 hours ago. "
            "Send an approved template instead.",
            code="window_closed",
            field="type",
        )
    quota.reserve(actor.workspace)
    message = Message(
        workspace=actor.workspace,
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        type=kind,
        text=text,
        status=Message.Status.QUEUED,
        reply_to=reply_to,
        sent_by=actor.user,
    )
    payload: dict[str, Any] = {
        "to": conversation.contact.wa_id,
        "type": kind,
        kind: content,
        "biz_opaque_callback_data": str(message.idempotency_key),
    }
    if reply_to is not None and reply_to.wamid:
        payload["context"] = {"message_id": reply_to.wamid}
    message.payload = payload
    message.save()
    now = timezone.now()
    preview = text or f"[{kind}]"
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=now, last_message_preview=preview[:200], unread_count=0
    )
    enqueue_send(workspace_id=actor.workspace.pk, message_id=message.pk)
    publish(actor.workspace.pk, "conversation", conversation.pk)
    return message


@transaction.atomic
def do_send_text(
    *, actor: Actor, conversation: Conversation, text: str, reply_to: Message | None = None
) -> Message:
    text = text.strip()
    if not text:
        raise ActionError("Write a message first.", code="required", field="text")
    if len(text) > MAX_TEXT:
        raise ActionError(
            f"A WhatsApp text can hold {MAX_TEXT} characters; this one has {len(text)}.",
            code="too_long",
            field="text",
        )
    return _queue(
        actor=actor,
        conversation=conversation,
        kind="text",
        content={"body": text, "preview_url": "http" in text},
        text=text,
        reply_to=reply_to,
    )


@transaction.atomic
def do_send_template(
    *,
    actor: Actor,
    conversation: Conversation,
    name: str,
    language: str,
    body_parameters: list[str],
) -> Message:
    if not re.fullmatch(r"[a-z0-9_]{1,512}", name or ""):
        raise ActionError("Pick a template by its name.", code="invalid_template", field="name")
    components = []
    if body_parameters:
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": p} for p in body_parameters]}
        )
    content = {"name": name, "language": {"code": language or "en_US"}, "components": components}
    label = f"[template {name}]" + (f" {' · '.join(body_parameters)}" if body_parameters else "")
    message = _queue(
        actor=actor, conversation=conversation, kind="template", content=content, text=label
    )
    from parley.msgtemplates.usage import record_agent_send

    record_agent_send(actor=actor, channel_id=conversation.channel_id, name=name, language=language)
    return message


@transaction.atomic
def do_send_media(
    *,
    actor: Actor,
    conversation: Conversation,
    kind: str,
    media_id: str,
    caption: str = "",
    filename: str = "",
) -> Message:
    if kind not in ("image", "audio", "video", "document", "sticker"):
        raise ActionError(f"Unknown media type {kind!r}.", code="invalid_type", field="type")
    content: dict[str, Any] = {"id": media_id}
    if caption and kind in ("image", "video", "document"):
        content["caption"] = caption[:1024]
    if filename and kind == "document":
        content["filename"] = filename[:240]
    return _queue(actor=actor, conversation=conversation, kind=kind, content=content, text=caption)


MEDIA_KIND_BY_MIME = {"image": "image", "video": "video", "audio": "audio"}
MAX_UPLOAD_BYTES = {
    "image": 5 * 1024 * 1024,
    "video": 16 * 1024 * 1024,
    "audio": 16 * 1024 * 1024,
    "document": 100 * 1024 * 1024,
}


@transaction.atomic
def do_send_file(
    *,
    actor: Actor,
    conversation: Conversation,
    filename: str,
    content: bytes,
    mime_type: str,
    caption: str = "",
) -> Message:
    """Send a file: stored now, uploaded to WhatsApp by the send job (no
    provider call inside the request)."""
    import uuid

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    mime_type = (mime_type or "application/octet-stream").split(";")[0].strip().lower()
    kind = MEDIA_KIND_BY_MIME.get(mime_type.split("/")[0], "document")
    if not content:
        raise ActionError("The file is empty.", code="empty_file", field="file")
    if len(content) > MAX_UPLOAD_BYTES[kind]:
        raise ActionError(
            f"WhatsApp accepts {kind} files up to {MAX_UPLOAD_BYTES[kind] // (1024 * 1024)} MB.",
            code="file_too_large",
            field="file",
        )
    safe_name = re.sub(r"[^\w.-]", "_", filename)[-100:] or "file"
    path = default_storage.save(
        f"ws{actor.workspace.pk}/outbound/{uuid.uuid4().hex}-{safe_name}", ContentFile(content)
    )
    body: dict[str, Any] = {}
    if caption and kind != "audio":
        body["caption"] = caption[:1024]
    if kind == "document":
        body["filename"] = safe_name
    message = _queue(actor=actor, conversation=conversation, kind=kind, content=body, text=caption)
    message.payload = {
        **message.payload,
        "upload": {"path": path, "mime": mime_type, "filename": safe_name},
    }
    message.save(update_fields=["payload"])
    return message


@transaction.atomic
def do_send_buttons(
    *, actor: Actor, conversation: Conversation, body: str, buttons: list[str]
) -> Message:
    titles = [b.strip() for b in buttons if b.strip()]
    if not body.strip() or not 1 <= len(titles) <= 3 or any(len(t) > 20 for t in titles):
        raise ActionError(
            "Interactive buttons need a body and one to three titles of at most 20 characters.",
            code="invalid_buttons",
            field="buttons",
        )
    content = {
        "type": "button",
        "body": {"text": body.strip()[:1024]},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": f"btn_{i}", "title": t}}
                for i, t in enumerate(titles, 1)
            ]
        },
    }
    return _queue(
        actor=actor,
        conversation=conversation,
        kind="interactive",
        content=content,
        text=body.strip(),
    )


@transaction.atomic
def do_send_list(
    *, actor: Actor, conversation: Conversation, body: str, button: str, rows: list[str]
) -> Message:
    titles = [r.strip() for r in rows if r.strip()]
    if not body.strip() or not button.strip() or not 1 <= len(titles) <= 10:
        raise ActionError(
            "A list needs a body, a button label and one to ten rows.",
            code="invalid_list",
            field="rows",
        )
    content = {
        "type": "list",
        "body": {"text": body.strip()[:1024]},
        "action": {
            "button": button.strip()[:20],
            "sections": [
                {
                    "title": "Options",
                    "rows": [{"id": f"row_{i}", "title": t[:24]} for i, t in enumerate(titles, 1)],
                }
            ],
        },
    }
    return _queue(
        actor=actor,
        conversation=conversation,
        kind="interactive",
        content=content,
        text=body.strip(),
    )


@transaction.atomic
def do_react(*, actor: Actor, conversation: Conversation, message: Message, emoji: str) -> Message:
    if not message.wamid:
        raise ActionError(
            "This message has no WhatsApp id yet.", code="not_sent", field="message_id"
        )
    content = {"message_id": message.wamid, "emoji": emoji[:8]}
    return _queue(
        actor=actor, conversation=conversation, kind="reaction", content=content, text=emoji
    )


def _require_work(actor: Actor) -> None:
    actor.require(Cap.CONVERSATIONS_WORK)


@transaction.atomic
def do_assign(*, actor: Actor, conversation: Conversation, user_id: int | None) -> Conversation:
    _require_work(actor)
    if (
        user_id is not None
        and not Membership.objects.filter(workspace=actor.workspace, user_id=user_id)
        .exclude(role="viewer")
        .exists()
    ):
        raise ActionError(
            "Assign to an agent, admin or owner of this workspace.",
            code="invalid_assignee",
            field="assignee_id",
        )
    changed = conversation.assignee_id != user_id
    conversation.assignee_id = user_id
    conversation.save(update_fields=["assignee"])
    publish(actor.workspace.pk, "conversation", conversation.pk)
    if changed:
        domain_events.emit(
            actor.workspace.pk,
            domain_events.CONVERSATION_ASSIGNED,
            conversation_ids=[conversation.pk],
            user_id=user_id,
            team_id=getattr(conversation, "team_id", None),
        )
    return conversation


@transaction.atomic
def do_change_status(
    *, actor: Actor, conversation: Conversation, status: str, snoozed_until: datetime | None = None
) -> Conversation:
    _require_work(actor)
    if status not in Conversation.Status.values:
        raise ActionError(
            f"Unknown status {status!r}; use one of {', '.join(Conversation.Status.values)}.",
            code="invalid_status",
            field="status",
        )
    if status == Conversation.Status.SNOOZED:
        if snoozed_until is None or snoozed_until <= timezone.now():
            raise ActionError(
                "Snooze until a time in the future.", code="invalid_snooze", field="snoozed_until"
            )
    else:
        snoozed_until = None
    previous = conversation.status
    conversation.status = status
    conversation.snoozed_until = snoozed_until
    conversation.save(update_fields=["status", "snoozed_until"])
    publish(actor.workspace.pk, "conversation", conversation.pk)
    if previous != status and status == Conversation.Status.RESOLVED:
        domain_events.emit(
            actor.workspace.pk,
            domain_events.CONVERSATION_RESOLVED,
            conversation_ids=[conversation.pk],
        )
    elif previous == Conversation.Status.RESOLVED and status == Conversation.Status.OPEN:
        domain_events.emit(
            actor.workspace.pk,
            domain_events.CONVERSATION_OPENED,
            conversation_ids=[conversation.pk],
        )
    return conversation


@transaction.atomic
def do_mark_read(*, actor: Actor, conversation: Conversation) -> None:
    """An agent opened the conversation: clear its unread badge and, if the
    workspace wants it, send the customer read receipts."""
    from parley.inbox.tasks import mark_read

    if not conversation.unread_count:
        return
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=0)
    conversation.unread_count = 0
    publish(actor.workspace.pk, "conversation", conversation.pk)
    if actor.workspace.mark_read_on_open and actor.can(Cap.CONVERSATIONS_WORK):
        latest = (
            Message.objects.filter(
                workspace=actor.workspace,
                conversation=conversation,
                direction=Message.Direction.INBOUND,
            )
            .exclude(wamid=None)
            .order_by("-id")
            .first()
        )
        if latest is not None:
            # Marking the newest message read marks the earlier ones too.
            enqueue(mark_read, workspace_id=actor.workspace.pk, message_id=latest.pk)


MENTION = re.compile(r"@([\w.+-]+@[\w-]+\.[\w.-]+|[\w.-]+)")


@transaction.atomic
def do_add_note(*, actor: Actor, conversation: Conversation, body: str) -> Note:
    _require_work(actor)
    body = body.strip()
    if not body:
        raise ActionError("Write the note first.", code="required", field="body")
    if len(body) > 5000:
        raise ActionError("A note holds up to 5,000 characters.", code="too_long", field="body")
    handles = {h.lower() for h in MENTION.findall(body)}
    mentioned = [
        m.user_id
        for m in Membership.objects.select_related("user").filter(workspace=actor.workspace)
        if m.user.email.lower() in handles or m.user.email.split("@")[0].lower() in handles
    ]
    note = Note.objects.create(
        workspace=actor.workspace,
        conversation=conversation,
        author=actor.user,
        body=body,
        mentions=mentioned,
    )
    publish(actor.workspace.pk, "conversation", conversation.pk)
    for user_id in mentioned:
        publish(actor.workspace.pk, "mention", user_id)
    return note


def _validate_quick_reply(shortcut: str, title: str, body: str) -> tuple[str, str, str]:
    shortcut = shortcut.strip().lstrip("/").lower()
    if not re.fullmatch(r"[a-z0-9_-]{1,40}", shortcut):
        raise ActionError(
            "A shortcut is 1 to 40 letters, digits, - or _.",
            code="invalid_shortcut",
            field="shortcut",
        )
    if not body.strip():
        raise ActionError("Write the reply's text.", code="required", field="body")
    return shortcut, (title.strip() or shortcut)[:100], body.strip()


@transaction.atomic
def do_save_quick_reply(
    *, actor: Actor, quick_reply: QuickReply | None, shortcut: str, title: str, body: str
) -> QuickReply:
    _require_work(actor)
    shortcut, title, body = _validate_quick_reply(shortcut, title, body)
    clash = QuickReply.objects.filter(workspace=actor.workspace, shortcut=shortcut)
    if quick_reply is not None:
        clash = clash.exclude(pk=quick_reply.pk)
    if clash.exists():
        raise Conflict(
            f"The shortcut /{shortcut} is taken.", code="shortcut_taken", field="shortcut"
        )
    if quick_reply is None:
        quick_reply = QuickReply(workspace=actor.workspace)
    quick_reply.shortcut, quick_reply.title, quick_reply.body = shortcut, title, body
    quick_reply.save()
    return quick_reply


@transaction.atomic
def do_delete_quick_reply(*, actor: Actor, quick_reply: QuickReply) -> None:
    _require_work(actor)
    quick_reply.delete()


def render_quick_reply(body: str, conversation: Conversation, actor: Actor) -> str:
    """Fill {{name}}, {{first_name}}, {{phone}} and {{agent}} in a quick reply."""
    contact = conversation.contact
    name = contact.display_name
    values = {
        "name": name,
        "first_name": name.split()[0] if name else "",
        "phone": contact.phone_e164 or contact.wa_id,
        "agent": actor.user.display_name if actor.user else "",
    }
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: values.get(m.group(1), m.group(0)), body)
