"""Processing a stored webhook: contacts, messages and statuses.

Runs in a job, inside the event's workspace. Idempotent: a second run of the
same event, or a second delivery of the same wamid, changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone

from parley.crm.actions import do_upsert_contact_from_whatsapp
from parley.inbox.models import Conversation, Message
from parley.inbox.statuses import apply_status
from parley.whatsapp.models import Channel, WebhookEvent
from parley.whatsapp.payloads import MEDIA_TYPES, Change, PayloadError, changes, summary, timestamp

log = structlog.get_logger(__name__)


@dataclass
class Outcome:
    messages: int = 0
    duplicates: int = 0
    statuses: int = 0
    ignored: list[str] = field(default_factory=list)
    new_message_ids: list[int] = field(default_factory=list)
    media_message_ids: list[int] = field(default_factory=list)
    conversation_ids: set[int] = field(default_factory=set)


def process_event(event: WebhookEvent) -> Outcome:
    outcome = Outcome()
    try:
        payload = json.loads(bytes(event.body))
        parsed = list(changes(payload))
    except (ValueError, PayloadError) as exc:
        _flag(event, f"unreadable body: {exc}")
        return outcome
    channel = (
        Channel.objects.filter(pk=event.channel_id).first()
        if event.channel_id is not None
        else None
    )
    if channel is None:
        _flag(event, "the channel was deleted")
        return outcome
    for change in parsed:
        if change.phone_number_id and change.phone_number_id != channel.phone_number_id:
            # Signed with this channel's secret but naming another number:
            # never let it write anywhere but this channel.
            outcome.ignored.append(f"change for number {change.phone_number_id}")
            continue
        if change.field_name != "messages":
            outcome.ignored.append(f"field {change.field_name}")
            continue
        _process_messages(channel, change, outcome)
        for status in change.value.get("statuses") or []:
            if isinstance(status, dict) and apply_status(channel, status):
                outcome.statuses += 1
    event.state = (
        WebhookEvent.State.FLAGGED
        if outcome.ignored and not (outcome.messages or outcome.statuses or outcome.duplicates)
        else WebhookEvent.State.PROCESSED
    )
    event.problem = "; ".join(outcome.ignored)[:300]
    event.processed_at = timezone.now()
    event.save(update_fields=["state", "problem", "processed_at"])
    return outcome


def _flag(event: WebhookEvent, problem: str) -> None:
    log.warning("webhook_flagged", event_id=event.pk, problem=problem)
    event.state = WebhookEvent.State.FLAGGED
    event.problem = problem[:300]
    event.processed_at = timezone.now()
    event.save(update_fields=["state", "problem", "processed_at"])


def _process_messages(channel: Channel, change: Change, outcome: Outcome) -> None:
    for raw in change.value.get("messages") or []:
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("from"):
            outcome.ignored.append("message without id or sender")
            continue
        wa_id = str(raw["from"])
        sent_at = timestamp(raw.get("timestamp"))
        kind, text = summary(raw)
        if Message.objects.filter(workspace_id=channel.workspace_id, wamid=raw["id"]).exists():
            outcome.duplicates += 1
            continue
        contact = do_upsert_contact_from_whatsapp(
            workspace_id=channel.workspace_id,
            wa_id=wa_id,
            profile_name=change.profiles.get(wa_id, ""),
            seen_at=sent_at,
        )
        conversation, _ = Conversation.objects.get_or_create(
            workspace_id=channel.workspace_id,
            contact=contact,
            channel=channel,
            defaults={"last_message_at": sent_at},
        )
        reply_to = None
        context_id = (raw.get("context") or {}).get("id")
        if context_id:
            reply_to = Message.objects.filter(
                workspace_id=channel.workspace_id, wamid=context_id
            ).first()
        try:
            with transaction.atomic():
                message = Message.objects.create(
                    workspace_id=channel.workspace_id,
                    conversation=conversation,
                    direction=Message.Direction.INBOUND,
                    wamid=str(raw["id"]),
                    type=kind,
                    text=text,
                    payload=raw,
                    status=Message.Status.RECEIVED,
                    reply_to=reply_to,
                    created_at=sent_at,
                )
        except IntegrityError:
            # A concurrent job stored the same wamid first.
            outcome.duplicates += 1
            continue
        outcome.messages += 1
        outcome.new_message_ids.append(message.pk)
        outcome.conversation_ids.add(conversation.pk)
        if kind in MEDIA_TYPES:
            outcome.media_message_ids.append(message.pk)
        _touch_conversation(conversation, message, kind, text)


def _touch_conversation(conversation: Conversation, message: Message, kind: str, text: str) -> None:
    preview = text or f"[{kind}]"
    fields = ["last_message_at", "last_inbound_at", "last_message_preview", "unread_count"]
    if message.created_at >= conversation.last_message_at:
        conversation.last_message_at = message.created_at
        conversation.last_message_preview = preview[:200]
    if conversation.last_inbound_at is None or message.created_at > conversation.last_inbound_at:
        conversation.last_inbound_at = message.created_at
    if kind != "reaction":
        conversation.unread_count += 1
    if conversation.status != Conversation.Status.OPEN:
        # A customer writing again reopens the conversation.
        conversation.status = Conversation.Status.OPEN
        conversation.snoozed_until = None
        fields += ["status", "snoozed_until"]
    conversation.save(update_fields=fields)


def summarize(outcome: Outcome) -> dict[str, Any]:
    return {
        "messages": outcome.messages,
        "duplicates": outcome.duplicates,
        "statuses": outcome.statuses,
        "ignored": outcome.ignored,
    }
