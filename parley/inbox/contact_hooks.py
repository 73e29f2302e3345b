"""What the inbox contributes to a contact: its messages on the timeline, and
how its conversations follow a merge. Registered in InboxConfig.ready."""

from __future__ import annotations

from datetime import datetime

from django.db import models

from parley.crm.timeline import TimelineEntry
from parley.inbox.models import Conversation, ConversationTag, Message


def merge_conversations(*, workspace_id: int, loser_id: int, survivor_id: int) -> int:
    """A contact has one conversation per channel, so where both contacts
    talked on the same channel the duplicate's thread is folded into the
    survivor's; the other conversations simply change contact."""
    moved = 0
    theirs = Conversation.objects.filter(workspace_id=workspace_id, contact_id=loser_id)
    ours = {
        c.channel_id: c
        for c in Conversation.objects.filter(workspace_id=workspace_id, contact_id=survivor_id)
    }
    for conv in theirs:
        target = ours.get(conv.channel_id)
        if target is None:
            conv.contact_id = survivor_id
            conv.save(update_fields=["contact"])
            moved += 1
            continue
        have = ConversationTag.objects.filter(
            workspace_id=workspace_id, conversation=target
        ).values("tag_id")
        ConversationTag.objects.filter(
            workspace_id=workspace_id, conversation=conv, tag_id__in=have
        ).delete()
        for rel in Conversation._meta.related_objects:
            if rel.one_to_many:
                model: type[models.Model] = rel.related_model
                moved += model._default_manager.filter(
                    workspace_id=workspace_id, **{rel.field.name: conv.pk}
                ).update(**{rel.field.name: target.pk})
        target.last_message_at = max(target.last_message_at, conv.last_message_at)
        if conv.last_inbound_at and (
            target.last_inbound_at is None or conv.last_inbound_at > target.last_inbound_at
        ):
            target.last_inbound_at = conv.last_inbound_at
        target.unread_count += conv.unread_count
        target.save(update_fields=["last_message_at", "last_inbound_at", "unread_count"])
        conv.delete()
    return moved


def message_timeline(
    *, workspace_id: int, contact_id: int, before: datetime | None, limit: int
) -> list[TimelineEntry]:
    rows = Message.objects.filter(workspace_id=workspace_id, conversation__contact_id=contact_id)
    if before is not None:
        rows = rows.filter(created_at__lt=before)
    entries = []
    for m in rows.select_related("sent_by").order_by("-created_at")[:limit]:
        inbound = m.direction == Message.Direction.INBOUND
        entries.append(
            TimelineEntry(
                at=m.created_at,
                kind="message",
                title="Customer wrote" if inbound else "Message sent",
                body=(m.text or f"[{m.type}]")[:300],
                actor="" if inbound else (m.sent_by.display_name if m.sent_by else "automation"),
                url=f"inbox/{m.conversation_id}/",
            )
        )
    return entries
