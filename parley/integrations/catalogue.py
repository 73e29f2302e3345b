"""The events an endpoint can subscribe to, and what each delivery's JSON looks like.

Every delivery's body is one event::

    {"id": "<uuid, the same for every endpoint and every retry>",
     "type": "message.received",
     "created_at": "2026-11-22T10:00:00.123456+00:00",
     "workspace_id": 7,
     "data": {...}}

``data`` per type is in ``EXAMPLES`` (also shown on the endpoint page and in
the API's OpenAPI description). One domain event that covers many rows (an
ingest batch, a bulk tag) becomes one webhook event per row.
"""

from __future__ import annotations

from typing import Any

from parley.core import domain_events as de

PING = "ping"

# (webhook event type, label, the domain events that produce it)
CATALOGUE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("message.received", "Message received", (de.MESSAGE_RECEIVED,)),
    ("message.status_changed", "Message status changed", (de.MESSAGE_STATUS_CHANGED,)),
    ("conversation.opened", "Conversation opened", (de.CONVERSATION_OPENED,)),
    ("conversation.assigned", "Conversation assigned", (de.CONVERSATION_ASSIGNED,)),
    ("conversation.resolved", "Conversation resolved", (de.CONVERSATION_RESOLVED,)),
    ("contact.created", "Contact created", (de.CONTACT_CREATED,)),
    ("contact.updated", "Contact updated", (de.CONTACT_UPDATED,)),
    ("contact.tag_changed", "Tag added or removed", (de.CONTACT_TAGGED, de.CONTACT_UNTAGGED)),
    ("deal.changed", "Deal created or changed", (de.DEAL_CHANGED,)),
    ("broadcast.finished", "Broadcast finished", (de.BROADCAST_FINISHED,)),
    ("workflow.failed", "Workflow failed", (de.WORKFLOW_FAILED,)),
)
EVENT_TYPES: tuple[str, ...] = tuple(t for t, _label, _sources in CATALOGUE)
CHOICES: list[tuple[str, str]] = [(t, label) for t, label, _sources in CATALOGUE]
# domain event -> webhook event type
FROM_DOMAIN: dict[str, str] = {s: t for t, _label, sources in CATALOGUE for s in sources}
_LABELS = {t: label for t, label, _sources in CATALOGUE} | {PING: "Test (ping)"}


def label(event_type: str) -> str:
    return _LABELS.get(event_type, event_type)


_CONTACT = {
    "id": 42,
    "name": "Ana Souza",
    "phone": "+5511987654321",
    "wa_id": "5511987654321",
}

# ``data`` of each event type, as documented to receivers.
EXAMPLES: dict[str, dict[str, Any]] = {
    "message.received": {
        "message": {
            "id": 9001,
            "conversation_id": 310,
            "channel_id": 3,
            "type": "text",
            "text": "Hi, is my order on its way?",
            "reply_id": "",
            "received_at": "2026-11-22T10:00:00+00:00",
            "first_in_conversation": False,
        },
        "contact": _CONTACT,
    },
    "message.status_changed": {
        "message": {
            "id": 9002,
            "conversation_id": 310,
            "status": "delivered",
            "error_code": None,
        },
        "contact": _CONTACT,
    },
    "conversation.opened": {
        "conversation": {
            "id": 310,
            "status": "open",
            "channel_id": 3,
            "assignee_id": None,
        },
        "contact": _CONTACT,
    },
    "conversation.assigned": {
        "conversation": {"id": 310, "status": "open", "channel_id": 3, "assignee_id": 5},
        "assigned_to": {"user_id": 5, "team_id": None},
        "contact": _CONTACT,
    },
    "conversation.resolved": {
        "conversation": {"id": 310, "status": "resolved", "channel_id": 3, "assignee_id": 5},
        "contact": _CONTACT,
    },
    "contact.created": {
        "contact": {
            **_CONTACT,
            "email": "ana@example.com",
            "consent": "opted_in",
            "attributes": {"plan": "pro"},
        }
    },
    "contact.updated": {
        "contact": {
            **_CONTACT,
            "email": "ana@example.com",
            "consent": "opted_in",
            "attributes": {"plan": "enterprise"},
        },
        "changed_fields": ["attributes.plan"],
    },
    "contact.tag_changed": {
        "contact": _CONTACT,
        "tag": {"id": 12, "name": "vip"},
        "action": "added",
    },
    "deal.changed": {
        "deal": {
            "id": 77,
            "title": "Annual plan",
            "value": "1200.00",
            "currency": "USD",
            "status": "open",
            "pipeline": {"id": 1, "name": "Sales"},
            "stage": {"id": 3, "name": "Proposal"},
            "contact_id": 42,
        },
        "created": False,
    },
    "broadcast.finished": {
        "broadcast": {
            "id": 15,
            "name": "Black Friday",
            "status": "finished",
            "audience_size": 5000,
            "finished_at": "2026-11-22T11:00:00+00:00",
        }
    },
    "workflow.failed": {"workflow_id": 8, "execution_id": 5123, "error": "HTTP call step: 502"},
    PING: {"message": "A test event from Parley.", "endpoint_id": 4},
}
