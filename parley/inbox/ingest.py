"""Processing stored webhooks: contacts, conversations, messages, statuses.

A job drains its workspace's received events in batches, each committed on
its own: a few bulk queries per batch instead of a dozen per message, which
is what keeps the inbox within a second of Meta at hundreds of messages a
second. Drains of one workspace are serialised by an advisory lock, so
deduplication by wamid needs no retries. Idempotent: an event is processed
once, a wamid stored once.

Webhooks defer at most one pending drain per workspace (a queueing lock in
the ingest function). A webhook that finds one pending relies on it; should
that drain start and finish its final look before the webhook commits (a
commit delayed past PARLEY_INGEST_RECHECK_SECONDS), the minute sweeper picks the event up.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from django.conf import settings
from django.db import connection
from django.utils import timezone

from parley.core import domain_events
from parley.core.bulk import update_rows
from parley.core.events import publish_many
from parley.core.tenant import workspace_context
from parley.core.transient import redo
from parley.crm.actions import e164_from_wa_id, set_consent
from parley.crm.models import Consent, Contact
from parley.inbox.models import Conversation, Message
from parley.inbox.statuses import apply_statuses
from parley.whatsapp.actions import apply_template_status
from parley.whatsapp.models import Channel, WebhookEvent
from parley.whatsapp.payloads import (
    MEDIA_TYPES,
    PayloadError,
    changes,
    reply_id,
    summary,
    timestamp,
)

log = structlog.get_logger(__name__)

BATCH = 200
BUDGET_SECONDS = 5.0
LOCK_NAMESPACE = 0x50A7  # advisory-lock namespace for per-workspace drains


@dataclass
class Outcome:
    events: int = 0
    messages: int = 0
    duplicates: int = 0
    statuses: int = 0
    ignored: list[str] = field(default_factory=list)
    media_message_ids: list[int] = field(default_factory=list)
    conversation_ids: set[int] = field(default_factory=set)
    unfinished: bool = False  # the time budget ran out with events left

    def add(self, other: Outcome) -> None:
        self.events += other.events
        self.messages += other.messages
        self.duplicates += other.duplicates
        self.statuses += other.statuses
        self.ignored += other.ignored
        self.media_message_ids += other.media_message_ids
        self.conversation_ids |= other.conversation_ids


@dataclass
class Inbound:
    channel: Channel
    raw: dict[str, Any]
    wa_id: str
    profile: str
    sent_at: datetime


def drain(workspace_id: int) -> Outcome | None:
    """Process the workspace's received events, one committed batch at a time
    (bounded in time). Returns None when another drain holds the workspace:
    the caller then schedules a later look, so no event is left behind."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, workspace_id])
        row = cursor.fetchone()
    if not row or not row[0]:
        return None
    total = Outcome()
    try:
        deadline = time.monotonic() + BUDGET_SECONDS
        rechecked = False
        while time.monotonic() < deadline:
            # Statuses lock messages that the outbox's write-back locks too:
            # a deadlock (not expected: both lock by id) redoes the batch.
            outcome = redo(functools.partial(_batch, workspace_id), what="ingest batch")
            if outcome is None:
                if rechecked:
                    break
                # One late look: a webhook whose job was folded into ours may
                # commit just after our last batch.
                rechecked = True
                time.sleep(settings.PARLEY_INGEST_RECHECK_SECONDS)
                continue
            rechecked = False
            total.add(outcome)
        else:
            total.unfinished = True
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, workspace_id])
    return total


def _batch(workspace_id: int) -> Outcome | None:
    try:
        with workspace_context(workspace_id):
            return process_batch(workspace_id, savepoint=False)
    except domain_events.HandlerError:
        # Rolled back whole: redone with the subscribers set apart, so a
        # failing one cannot hold up the messages.
        with workspace_context(workspace_id):
            return process_batch(workspace_id)


def process_batch(workspace_id: int, *, savepoint: bool = True) -> Outcome | None:
    """One batch of received events, in the caller's transaction. The
    subscribers to its events run in a savepoint; ``savepoint=False`` spares
    its round trips for a caller that redoes the batch on ``HandlerError``."""
    events = list(
        WebhookEvent.objects.select_for_update(skip_locked=True)
        .filter(workspace_id=workspace_id, state=WebhookEvent.State.RECEIVED)
        .order_by("id")[:BATCH]
    )
    if not events:
        return None
    outcome = Outcome(events=len(events))
    channels = {
        c.pk: c
        for c in Channel.objects.filter(pk__in={e.channel_id for e in events if e.channel_id})
    }
    inbound: list[Inbound] = []
    statuses: list[dict[str, Any]] = []
    now = timezone.now()
    for event in events:
        problems = _read_event(event, channels, inbound, statuses)
        event.state = (
            WebhookEvent.State.FLAGGED if problems["flag"] else WebhookEvent.State.PROCESSED
        )
        event.problem = "; ".join(problems["notes"])[:300]
        event.processed_at = now
        outcome.ignored += problems["notes"]
    # The batch's domain events (contacts, messages, conversations, statuses)
    # are told together at its end: one savepoint (or none), one interest
    # version read.
    with domain_events.batched(savepoint=savepoint):
        _store_inbound(workspace_id, inbound, outcome)
        outcome.statuses = apply_statuses(workspace_id, statuses)
    update_rows(events, ["state", "problem", "processed_at"])
    # NOTIFY is transactional: browsers hear of the batch as it commits.
    publish_many(workspace_id, "conversation", sorted(outcome.conversation_ids))
    return outcome


def _read_event(
    event: WebhookEvent,
    channels: dict[int, Channel],
    inbound: list[Inbound],
    statuses: list[dict[str, Any]],
) -> dict[str, Any]:
    notes: list[str] = []
    channel = channels.get(event.channel_id or 0)
    if channel is None:
        return {"flag": True, "notes": ["the channel was deleted"]}
    try:
        parsed = list(changes(json.loads(bytes(event.body))))
    except (ValueError, PayloadError) as exc:
        log.warning("webhook_flagged", event_id=event.pk, problem=str(exc))
        return {"flag": True, "notes": [f"unreadable body: {exc}"]}
    useful = False
    for change in parsed:
        if change.phone_number_id and change.phone_number_id != channel.phone_number_id:
            # Signed with this channel's secret but naming another number:
            # never let it write anywhere but this channel.
            notes.append(f"change for number {change.phone_number_id}")
            continue
        if change.field_name == "message_template_status_update":
            useful = apply_template_status(channel, change.value) or useful
            continue
        if change.field_name != "messages":
            notes.append(f"field {change.field_name}")
            continue
        for raw in change.value.get("messages") or []:
            if not isinstance(raw, dict) or not raw.get("id") or not raw.get("from"):
                notes.append("message without id or sender")
                continue
            wa_id = str(raw["from"])
            inbound.append(
                Inbound(
                    channel,
                    raw,
                    wa_id,
                    change.profiles.get(wa_id, ""),
                    timestamp(raw.get("timestamp")),
                )
            )
            useful = True
        for status in change.value.get("statuses") or []:
            if isinstance(status, dict):
                statuses.append(status)
                useful = True
    return {"flag": bool(notes) and not useful, "notes": notes}


def _store_inbound(workspace_id: int, items: list[Inbound], outcome: Outcome) -> None:
    if not items:
        return
    existing = set(
        Message.objects.filter(
            workspace_id=workspace_id, wamid__in=[str(i.raw["id"]) for i in items]
        ).values_list("wamid", flat=True)
    )
    fresh: list[Inbound] = []
    for item in items:
        wamid = str(item.raw["id"])
        if wamid in existing:
            outcome.duplicates += 1
            continue
        existing.add(wamid)  # a redelivery inside the same batch
        fresh.append(item)
    if not fresh:
        return
    contacts = _contacts(workspace_id, fresh)
    conversations = _conversations(workspace_id, fresh, contacts)
    context_ids = {
        str((i.raw.get("context") or {}).get("id"))
        for i in fresh
        if (i.raw.get("context") or {}).get("id")
    }
    quoted = (
        dict(
            Message.objects.filter(workspace_id=workspace_id, wamid__in=context_ids).values_list(
                "wamid", "id"
            )
        )
        if context_ids
        else {}
    )
    messages = []
    for item in fresh:
        kind, text = summary(item.raw)
        conversation = conversations[(contacts[item.wa_id].pk, item.channel.pk)]
        messages.append(
            Message(
                workspace_id=workspace_id,
                conversation=conversation,
                direction=Message.Direction.INBOUND,
                wamid=str(item.raw["id"]),
                type=kind,
                text=text,
                payload=item.raw,
                status=Message.Status.RECEIVED,
                reply_to_id=quoted.get(str((item.raw.get("context") or {}).get("id"))),
                created_at=item.sent_at,
            )
        )
    Message.objects.bulk_create(messages)
    _consent_keywords(fresh, contacts)
    touched: dict[int, Conversation] = {}
    # Before _touch: a conversation no customer message reached yet, or a
    # resolved one, opens with this batch (a snoozed one just wakes up).
    first_ids = {c.pk for c in conversations.values() if c.last_inbound_at is None}
    opened_ids = {
        c.pk
        for c in conversations.values()
        if c.last_inbound_at is None or c.status == Conversation.Status.RESOLVED
    }
    firsts: set[int] = set()
    first_messages: set[int] = set()
    for message in sorted(messages, key=lambda m: m.created_at):
        conversation = message.conversation
        if conversation.pk in first_ids and conversation.pk not in firsts:
            firsts.add(conversation.pk)
            first_messages.add(message.pk)
        _touch(conversation, message)
        touched[conversation.pk] = conversation
        outcome.messages += 1
        outcome.conversation_ids.add(conversation.pk)
        if message.type in MEDIA_TYPES:
            outcome.media_message_ids.append(message.pk)
    # One call per batch (drips, workflows, rules, webhooks): subscribers only enqueue jobs.
    attributes = {c.pk: c.attributes for c in contacts.values()}
    domain_events.emit(
        workspace_id,
        domain_events.MESSAGE_RECEIVED,
        messages=[
            domain_events.ReceivedMessage(
                message_id=m.pk,
                contact_id=m.conversation.contact_id,
                conversation_id=m.conversation_id,
                text=m.text,
                received_at=m.created_at,
                channel_id=m.conversation.channel_id,
                type=m.type,
                reply_id=reply_id(m.payload),
                first=m.pk in first_messages,
                contact_attributes=attributes[m.conversation.contact_id],
            )
            for m in messages
        ],
    )
    if opened_ids:
        domain_events.emit(
            workspace_id, domain_events.CONVERSATION_OPENED, conversation_ids=sorted(opened_ids)
        )
    update_rows(
        list(touched.values()),
        [
            "last_message_at",
            "last_inbound_at",
            "last_message_preview",
            "unread_count",
            "status",
            "snoozed_until",
        ],
    )


STOP_WORDS = frozenset({"stop", "unsubscribe", "stop all", "opt out", "optout"})
START_WORDS = frozenset({"start", "subscribe", "opt in", "optin"})


def _consent_keywords(items: list[Inbound], contacts: dict[str, Contact]) -> None:
    """A customer writing STOP opts out of marketing (START opts back in)."""
    for item in sorted(items, key=lambda i: i.sent_at):
        if item.raw.get("type") != "text":
            continue
        word = " ".join(str((item.raw.get("text") or {}).get("body") or "").lower().split())
        if word in STOP_WORDS:
            set_consent(contacts[item.wa_id], Consent.OPTED_OUT, "keyword")
        elif word in START_WORDS:
            set_consent(contacts[item.wa_id], Consent.OPTED_IN, "keyword")


def _contacts(workspace_id: int, items: list[Inbound]) -> dict[str, Contact]:
    latest: dict[str, Inbound] = {}
    for item in items:
        if item.wa_id not in latest or item.sent_at >= latest[item.wa_id].sent_at:
            latest[item.wa_id] = item
    found = {
        c.wa_id: c for c in Contact.objects.filter(workspace_id=workspace_id, wa_id__in=latest)
    }
    missing = [
        Contact(
            workspace_id=workspace_id,
            wa_id=wa_id,
            profile_name=item.profile[:200],
            phone_e164=e164_from_wa_id(wa_id),
            last_inbound_at=item.sent_at,
        )
        for wa_id, item in latest.items()
        if wa_id not in found
    ]
    if missing:
        Contact.objects.bulk_create(missing)
        found.update({c.wa_id: c for c in missing})
        domain_events.emit(
            workspace_id, domain_events.CONTACT_CREATED, contact_ids=[c.pk for c in missing]
        )
    changed = []
    for wa_id, contact in found.items():
        item = latest[wa_id]
        dirty = False
        if item.profile and contact.profile_name != item.profile[:200]:
            contact.profile_name = item.profile[:200]
            dirty = True
        if contact.last_inbound_at is None or contact.last_inbound_at < item.sent_at:
            contact.last_inbound_at = item.sent_at
            dirty = True
        if dirty and contact not in missing:
            contact.updated_at = timezone.now()
            changed.append(contact)
    if changed:
        update_rows(changed, ["profile_name", "last_inbound_at", "updated_at"])
    return found


def _conversations(
    workspace_id: int, items: list[Inbound], contacts: dict[str, Contact]
) -> dict[tuple[int, int], Conversation]:
    first_seen: dict[tuple[int, int], datetime] = {}
    for item in items:
        key = (contacts[item.wa_id].pk, item.channel.pk)
        first_seen[key] = min(first_seen.get(key, item.sent_at), item.sent_at)
    found = {
        (c.contact_id, c.channel_id): c
        for c in Conversation.objects.filter(
            workspace_id=workspace_id,
            contact_id__in={k[0] for k in first_seen},
            channel_id__in={k[1] for k in first_seen},
        )
    }
    missing = [
        Conversation(
            workspace_id=workspace_id, contact_id=k[0], channel_id=k[1], last_message_at=at
        )
        for k, at in first_seen.items()
        if k not in found
    ]
    if missing:
        Conversation.objects.bulk_create(missing)
        found.update({(c.contact_id, c.channel_id): c for c in missing})
    return found


def _touch(conversation: Conversation, message: Message) -> None:
    preview = message.text or f"[{message.type}]"
    if message.created_at >= conversation.last_message_at:
        conversation.last_message_at = message.created_at
        conversation.last_message_preview = preview[:200]
    if conversation.last_inbound_at is None or message.created_at > conversation.last_inbound_at:
        conversation.last_inbound_at = message.created_at
    if message.type != "reaction":
        conversation.unread_count += 1
    if conversation.status != Conversation.Status.OPEN:
        # A customer writing again reopens the conversation.
        conversation.status = Conversation.Status.OPEN
        conversation.snoozed_until = None


def summarize(outcome: Outcome) -> dict[str, Any]:
    return {
        "events": outcome.events,
        "messages": outcome.messages,
        "duplicates": outcome.duplicates,
        "statuses": outcome.statuses,
        "ignored": outcome.ignored[:10],
    }
