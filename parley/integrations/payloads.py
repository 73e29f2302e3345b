"""Rendering webhook events from domain events (in the fan-out job, never in
the emitting transaction): one ``data`` dict per row the domain event
covered, shaped as ``catalogue.EXAMPLES`` documents. Each renderer loads
what it needs in one or two queries for the whole batch."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from parley.crm.models import Contact, Tag
from parley.deals.models import Deal
from parley.inbox.models import Conversation, Message

Data = dict[str, Any]


def contact_summary(contact: Contact | None) -> Data | None:
    if contact is None:
        return None
    return {
        "id": contact.pk,
        "name": contact.display_name,
        "phone": contact.phone_e164 or f"+{contact.wa_id}",
        "wa_id": contact.wa_id,
    }


def _contact_full(contact: Contact) -> Data:
    return {
        **(contact_summary(contact) or {}),
        "email": contact.email,
        "consent": contact.consent,
        "attributes": contact.attributes or {},
    }


def _contacts(workspace_id: int, ids: Iterable[int]) -> dict[int, Contact]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {c.pk: c for c in Contact.objects.filter(workspace_id=workspace_id, pk__in=wanted)}


def _conversation(conversation: Conversation) -> Data:
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "channel_id": conversation.channel_id,
        "assignee_id": conversation.assignee_id,
    }


def _ids(data: Data, key: str) -> list[int]:
    return [int(i) for i in data.get(key) or []]


def message_received(workspace_id: int, data: Data) -> list[Data]:
    """``data["messages"]``: [id, contact, conversation, channel, type, reply id, first]
    per message (subscriptions._compact); texts come from the database."""
    rows: list[list[Any]] = list(data.get("messages") or [])
    stored = {
        pk: (text, created_at)
        for pk, text, created_at in Message.objects.filter(
            workspace_id=workspace_id, pk__in=[int(r[0]) for r in rows]
        ).values_list("pk", "text", "created_at")
    }
    contacts = _contacts(workspace_id, (int(r[1]) for r in rows))
    out = []
    for message_id, contact_id, conversation_id, channel_id, kind, reply, first in rows:
        text, at = stored.get(int(message_id), ("", None))
        out.append(
            {
                "message": {
                    "id": message_id,
                    "conversation_id": conversation_id,
                    "channel_id": channel_id,
                    "type": kind,
                    "text": text,
                    "reply_id": reply,
                    "received_at": at.isoformat() if at else None,
                    "first_in_conversation": bool(first),
                },
                "contact": contact_summary(contacts.get(int(contact_id))),
            }
        )
    return out


def message_status_changed(workspace_id: int, data: Data) -> list[Data]:
    """``data["statuses"]``: [message id, conversation id, status, error code] each."""
    rows: list[list[Any]] = list(data.get("statuses") or [])
    conversations = {
        c.pk: c
        for c in Conversation.objects.filter(
            workspace_id=workspace_id, pk__in={int(r[1]) for r in rows}
        ).select_related("contact")
    }
    out = []
    for message_id, conversation_id, status, error_code in rows:
        conversation = conversations.get(int(conversation_id))
        out.append(
            {
                "message": {
                    "id": message_id,
                    "conversation_id": conversation_id,
                    "status": status,
                    "error_code": error_code,
                },
                "contact": contact_summary(conversation.contact if conversation else None),
            }
        )
    return out


def _conversations(workspace_id: int, data: Data, extra: Data | None = None) -> list[Data]:
    rows = Conversation.objects.filter(
        workspace_id=workspace_id, pk__in=_ids(data, "conversation_ids")
    ).select_related("contact")
    return [
        {
            "conversation": _conversation(c),
            **(extra or {}),
            "contact": contact_summary(c.contact),
        }
        for c in rows.order_by("pk")
    ]


def conversation_opened(workspace_id: int, data: Data) -> list[Data]:
    return _conversations(workspace_id, data)


def conversation_assigned(workspace_id: int, data: Data) -> list[Data]:
    assigned = {"user_id": data.get("user_id"), "team_id": data.get("team_id")}
    return _conversations(workspace_id, data, {"assigned_to": assigned})


def conversation_resolved(workspace_id: int, data: Data) -> list[Data]:
    return _conversations(workspace_id, data)


def contact_created(workspace_id: int, data: Data) -> list[Data]:
    contacts = _contacts(workspace_id, _ids(data, "contact_ids"))
    return [{"contact": _contact_full(c)} for _pk, c in sorted(contacts.items())]


def contact_updated(workspace_id: int, data: Data) -> list[Data]:
    fields = [str(f) for f in data.get("fields") or []]
    contacts = _contacts(workspace_id, _ids(data, "contact_ids"))
    return [
        {"contact": _contact_full(c), "changed_fields": fields}
        for _pk, c in sorted(contacts.items())
    ]


def contact_tag_changed(workspace_id: int, data: Data) -> list[Data]:
    tag = Tag.objects.filter(workspace_id=workspace_id, pk=int(data["tag_id"])).first()
    tag_data = {"id": int(data["tag_id"]), "name": tag.name if tag else ""}
    contacts = _contacts(workspace_id, _ids(data, "contact_ids"))
    return [
        {"contact": contact_summary(c), "tag": tag_data, "action": data.get("action", "added")}
        for _pk, c in sorted(contacts.items())
    ]


def deal_changed(workspace_id: int, data: Data) -> list[Data]:
    deals = Deal.objects.filter(
        workspace_id=workspace_id, pk__in=_ids(data, "deal_ids")
    ).select_related("pipeline", "stage")
    return [
        {
            "deal": {
                "id": d.pk,
                "title": d.title,
                "value": str(d.value),
                "currency": d.currency,
                "status": d.status,
                "pipeline": {"id": d.pipeline_id, "name": d.pipeline.name},
                "stage": {"id": d.stage_id, "name": d.stage.name},
                "contact_id": d.contact_id,
            },
            "created": bool(data.get("created", False)),
        }
        for d in deals.order_by("pk")
    ]


def broadcast_finished(workspace_id: int, data: Data) -> list[Data]:
    # Imported here: broadcasts is a campaign app, loaded only for this event.
    from parley.broadcasts.models import Broadcast

    b = Broadcast.objects.filter(workspace_id=workspace_id, pk=int(data["broadcast_id"])).first()
    if b is None:
        return []
    return [
        {
            "broadcast": {
                "id": b.pk,
                "name": b.name,
                "status": b.status,
                "audience_size": b.audience_size,
                "finished_at": b.finished_at.isoformat() if b.finished_at else None,
            }
        }
    ]


def workflow_failed(workspace_id: int, data: Data) -> list[Data]:
    return [
        {
            "workflow_id": data.get("workflow_id"),
            "execution_id": data.get("execution_id"),
            "error": str(data.get("error", ""))[:500],
        }
    ]


RENDERERS: dict[str, Callable[[int, Data], list[Data]]] = {
    "message.received": message_received,
    "message.status_changed": message_status_changed,
    "conversation.opened": conversation_opened,
    "conversation.assigned": conversation_assigned,
    "conversation.resolved": conversation_resolved,
    "contact.created": contact_created,
    "contact.updated": contact_updated,
    "contact.tag_changed": contact_tag_changed,
    "deal.changed": deal_changed,
    "broadcast.finished": broadcast_finished,
    "workflow.failed": workflow_failed,
}


def render(workspace_id: int, event_type: str, data: Data) -> list[Data]:
    return RENDERERS[event_type](workspace_id, data)
