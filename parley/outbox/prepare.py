"""Claim a batch of due items and turn each into a message ready to send, in
one transaction: consent, the 24-hour window, the messaging tier, the
source's own checks, rendering, the conversation and the inbox message.

Claim and messages commit together, so a crash before the commit leaves the
items queued as they were; after it, every claimed item has its message and
its idempotency key (see recovery.py)."""

from __future__ import annotations

import json
import os
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from parley.core.bulk import int_array
from parley.crm.models import Consent, Contact
from parley.inbox.models import Conversation, Message
from parley.inbox.window import WINDOW
from parley.outbox import hooks
from parley.outbox.models import OutboundContent, OutboundItem, TierContact
from parley.outbox.pacing import Send
from parley.whatsapp.models import Channel, MessageTemplate

State = OutboundItem.State
# Sources whose messages are marketing: an opted-out contact is skipped.
MARKETING_SOURCES = frozenset({"broadcast", "drip"})


@dataclass(slots=True)
class Claimed:
    """An item taken for sending: plain values, not a model instance (a
    batch is hundreds of rows, several times a second; building models and
    saving them through the ORM cost more CPU than the database's work).
    Ends as ``state`` with ``reason``, or gets ``message_id`` and is sent."""

    id: int
    contact_id: int
    content_id: int
    message_id: int | None
    source: str
    source_id: int
    values: dict[str, Any]
    state: str = State.SENDING
    reason: str = ""
    finished_at: datetime | None = None
    not_before: datetime | None = None


@dataclass(slots=True)
class _Conversation:
    id: int
    last_inbound_at: datetime | None


@dataclass(slots=True)
class _Message:
    """An existing message re-sent (a retry keeps its key), or a new one."""

    id: int | None
    conversation_id: int
    idempotency_key: uuid.UUID
    attempts: int
    type: str = ""
    text: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class Batch:
    sends: list[Send] = field(default_factory=list)
    # Items that end here without a send (or wait longer, for the tier).
    finished: list[Claimed] = field(default_factory=list)
    conversation_ids: list[int] = field(default_factory=list)
    claimed: int = 0
    template_uses: dict[tuple[int, str, int], int] = field(default_factory=dict)


@dataclass
class Tier:
    """The channel's messaging-tier budget for this run: distinct customers in
    business-initiated conversations over the last 24 hours."""

    limit: int | None
    used: int
    oldest: datetime | None
    # Batches are prepared on two threads; each customer counted once.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self) -> bool:
        """Count one more customer, if the tier has room for them."""
        with self._lock:
            if self.limit is not None and self.used >= self.limit:
                return False
            self.used += 1
            return True


def load_tier(channel: Channel) -> Tier:
    limit = channel.tier_limit
    if limit is None:
        return Tier(limit=None, used=0, oldest=None)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*), min(last_at) FROM outbox_tiercontact
                WHERE workspace_id = %s AND channel_id = %s
                  AND last_at > now() - interval '24 hours'""",
            [channel.workspace_id, channel.pk],
        )
        count, oldest = cursor.fetchone() or (0, None)
    return Tier(limit=limit, used=int(count), oldest=oldest)


class Contents:
    """Contents and compiled templates, cached for the dispatcher's run."""

    def __init__(self) -> None:
        self._contents: dict[int, OutboundContent] = {}
        self._renderers: dict[tuple[int, str], Any] = {}

    def get(self, content_ids: set[int]) -> dict[int, OutboundContent]:
        missing = content_ids - self._contents.keys()
        if missing:
            for content in OutboundContent.objects.select_related(
                "template", "fallback_template"
            ).filter(pk__in=missing):
                self._contents[content.pk] = content
        return {i: self._contents[i] for i in content_ids if i in self._contents}

    def renderer(self, content: OutboundContent, *, fallback: bool) -> Any:
        """The compiled template (raises RenderError with a reason)."""
        from parley.msgtemplates.render import RenderError, compile_template

        key = (content.pk, "fallback" if fallback else "main")
        if key not in self._renderers:
            template = content.fallback_template if fallback else content.template
            mapping = content.fallback_mapping if fallback else content.mapping
            try:
                if template is None:
                    raise RenderError("The template was deleted.")
                if template.status.upper() != "APPROVED":
                    raise RenderError(
                        f"The template {template.name} ({template.language}) is not approved "
                        f"(its status is {template.status.lower() or 'unknown'})."
                    )
                self._renderers[key] = compile_template(template, mapping)
            except RenderError as exc:
                self._renderers[key] = exc
        found = self._renderers[key]
        if isinstance(found, Exception):
            raise found
        return found


def claim(channel: Channel, limit: int) -> list[Claimed]:
    """Due items, single-contact sends (drips, scheduled) before broadcasts,
    each set in the order it fell due, locked until the transaction ends."""
    items: list[Claimed] = []
    for broadcasts in (False, True):
        if len(items) >= limit:
            break
        with connection.cursor() as cursor:
            cursor.execute(
                # Locked, not yet updated: each claimed row is written once,
                # at the end of prepare(), with what became of it.
                f"""SELECT id, contact_id, content_id, message_id, source, source_id, "values"
                      FROM outbox_outbounditem
                     WHERE workspace_id = %s AND channel_id = %s AND state = 'pending'
                       AND not_before <= now()
                       AND source {"=" if broadcasts else "<>"} 'broadcast'
                     ORDER BY not_before, id LIMIT %s
                       FOR UPDATE SKIP LOCKED""",
                [channel.workspace_id, channel.pk, limit - len(items)],
            )
            items += [
                Claimed(
                    id=r[0],
                    contact_id=r[1],
                    content_id=r[2],
                    message_id=r[3],
                    source=r[4],
                    source_id=r[5],
                    values=_json(r[6]),
                )
                for r in cursor.fetchall()
            ]
    return items


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def prepare(channel: Channel, items: list[Claimed], contents: Contents, tier: Tier) -> Batch:
    batch = Batch(claimed=len(items))
    if not items:
        return batch
    now = timezone.now()
    contacts = {c.pk: c for c in Contact.objects.filter(pk__in={i.contact_id for i in items})}
    by_content = contents.get({i.content_id for i in items})
    skip = _source_checks(channel.workspace_id, items)
    conversations = _conversations(channel, set(contacts))
    existing = _existing_messages([i.message_id for i in items if i.message_id])
    counted = _counted_in_tier(channel, set(contacts), now) if tier.limit is not None else set()
    keys = _uuid4s(len(items))
    tier_contacts: list[int] = []
    ready: list[tuple[Claimed, _Message]] = []
    for item in items:
        contact = contacts.get(item.contact_id)
        content = by_content.get(item.content_id)
        if contact is None or content is None:
            _end(batch, item, State.SKIPPED, "The contact or the message was deleted.", now)
            continue
        if item.id in skip:
            _end(batch, item, State.SKIPPED, skip[item.id], now)
            continue
        if item.source in MARKETING_SOURCES and contact.consent == Consent.OPTED_OUT:
            _end(batch, item, State.SKIPPED, "The contact opted out of marketing messages.", now)
            continue
        if not contact.wa_id:
            _end(batch, item, State.SKIPPED, "The contact has no WhatsApp number.", now)
            continue
        conversation = conversations.get(contact.pk)
        last_inbound = conversation.last_inbound_at if conversation else None
        window_open = last_inbound is not None and now - last_inbound < WINDOW
        try:
            body, text, template = _body(content, contact, item, window_open, contents)
        except _FailError as exc:
            _end(batch, item, State.FAILED, exc.reason, now)
            continue
        if template is not None and not window_open and contact.pk not in counted:
            # A template outside the window opens a business-initiated
            # conversation: that is what Meta's messaging tier counts.
            if not tier.take():
                _wait_for_tier(item, tier, now)
                batch.finished.append(item)
                continue
            counted.add(contact.pk)
            tier_contacts.append(contact.pk)
        if template is not None:
            key = (template.pk, item.source, item.source_id)
            batch.template_uses[key] = batch.template_uses.get(key, 0) + 1
        # A retry keeps its message (and so its key and its conversation).
        message = existing.get(item.message_id or 0) or _Message(
            id=None,
            conversation_id=conversation.id if conversation else 0,
            idempotency_key=keys.pop(),
            attempts=0,
        )
        message.type = str(body["type"])
        message.text = text
        message.attempts += 1
        message.payload = {
            "to": contact.wa_id,
            **body,
            "biz_opaque_callback_data": str(message.idempotency_key),
        }
        ready.append((item, message))
    if ready:
        _start_conversations(channel, ready, now)
        _write_messages(channel, [m for _i, m in ready], now)
        for item, message in ready:
            assert message.id is not None
            item.message_id = message.id
            batch.sends.append(
                Send(
                    item_id=item.id,
                    message_id=message.id,
                    payload=message.payload,
                    contact_id=item.contact_id,
                    source=item.source,
                )
            )
        batch.conversation_ids = sorted({m.conversation_id for _i, m in ready})
    if tier_contacts:
        _remember_tier(channel, tier_contacts, now)
    _write_items([i for i, _m in ready], batch.finished)
    return batch


def _uuid4s(count: int) -> list[uuid.UUID]:
    """Random (version 4) UUIDs from one read of the system's randomness (one
    read per key cost more than rendering the message on some machines)."""
    pool = os.urandom(16 * count)
    return [uuid.UUID(bytes=pool[16 * n : 16 * n + 16], version=4) for n in range(count)]


def _existing_messages(ids: list[int]) -> dict[int, _Message]:
    if not ids:
        return {}
    return {
        pk: _Message(id=pk, conversation_id=conv, idempotency_key=key, attempts=attempts)
        for pk, conv, key, attempts in Message.objects.filter(pk__in=ids).values_list(
            "id", "conversation_id", "idempotency_key", "attempts"
        )
    }


def _write_messages(channel: Channel, messages: list[_Message], now: datetime) -> None:
    """New messages in one INSERT, retried ones in one UPDATE. The rows travel
    as one JSON document: psycopg quotes each parameter in Python, and a
    batch has thousands of them."""
    new = [m for m in messages if m.id is None]
    old = [m for m in messages if m.id is not None]
    with connection.cursor() as cursor:
        if new:
            cursor.execute(
                """INSERT INTO inbox_message (workspace_id, conversation_id, direction, type, text,
                       payload, status, error_reason, idempotency_key, attempts, last_attempt_at,
                       created_at)
                   SELECT %s, r.c, 'out', r.t, r.x, r.p, 'sending', '', r.k, r.a, %s, %s
                     FROM jsonb_to_recordset(%s::jsonb) AS r(c bigint, t text, x text, p jsonb,
                                                             k uuid, a int)
                   RETURNING id, idempotency_key""",
                [channel.workspace_id, now, now, _rows_json(new)],
            )
            ids = {key: pk for pk, key in cursor.fetchall()}
            for m in new:
                m.id = ids[m.idempotency_key]
        if old:
            cursor.execute(
                """UPDATE inbox_message m
                      SET type = r.t, text = r.x, payload = r.p, status = 'sending',
                          attempts = r.a, last_attempt_at = %s
                     FROM jsonb_to_recordset(%s::jsonb) AS r(i bigint, t text, x text, p jsonb,
                                                             a int)
                    WHERE m.id = r.i AND m.workspace_id = %s""",
                [now, _rows_json(old), channel.workspace_id],
            )


def _rows_json(messages: list[_Message]) -> str:
    return json.dumps(
        [
            {
                "i": m.id,
                "c": m.conversation_id,
                "t": m.type,
                "x": m.text,
                "p": m.payload,
                "k": str(m.idempotency_key),
                "a": m.attempts,
            }
            for m in messages
        ]
    )


def _write_items(ready: list[Claimed], finished: list[Claimed]) -> None:
    """Every claimed item in one UPDATE: sending with its message, or ended
    (skipped, failed) with the reason, or back in line (the tier)."""
    rows = [{"i": i.id, "s": State.SENDING, "m": i.message_id} for i in ready] + [
        {
            "i": i.id,
            "s": i.state,
            "r": i.reason,
            "f": i.finished_at.isoformat() if i.finished_at else None,
            "n": i.not_before.isoformat() if i.not_before else None,
        }
        for i in finished
    ]
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE outbox_outbounditem i
                  SET state = r.s,
                      reason = COALESCE(r.r, ''),
                      finished_at = r.f,
                      not_before = COALESCE(r.n, i.not_before),
                      message_id = COALESCE(r.m, i.message_id),
                      claimed_at = CASE WHEN r.s = 'sending' THEN now() ELSE i.claimed_at END,
                      attempts = i.attempts + CASE WHEN r.s = 'sending' THEN 1 ELSE 0 END
                 FROM jsonb_to_recordset(%s::jsonb) AS r(i bigint, s text, r text,
                                                         f timestamptz, n timestamptz, m bigint)
                WHERE i.id = r.i""",
            [json.dumps(rows)],
        )


class _FailError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _body(
    content: OutboundContent,
    contact: Contact,
    item: Claimed,
    window_open: bool,
    contents: Contents,
) -> tuple[dict[str, Any], str, MessageTemplate | None]:
    from parley.msgtemplates.render import RenderError

    fallback = False
    if content.text and content.template is None:
        if window_open:
            return {"type": "text", "text": {"body": content.text}}, content.text, None
        if content.fallback_template_id is None:
            raise _FailError(
                "The 24-hour window had closed by the send time (the customer last wrote more "
                "than 24 hours before). Pick a fallback template to reach them anyway."
            )
        fallback = True
    template = content.fallback_template if fallback else content.template
    try:
        renderer = contents.renderer(content, fallback=fallback)
        rendered = renderer.render(
            contact, {str(k): str(v) for k, v in (item.values or {}).items()}
        )
    except RenderError as exc:
        raise _FailError(str(getattr(exc, "reason", exc))) from exc
    return dict(rendered.payload), str(rendered.text), template


def _end(batch: Batch, item: Claimed, state: str, reason: str, now: datetime) -> None:
    item.state = state
    item.reason = reason[:300]
    item.finished_at = now
    batch.finished.append(item)


def _wait_for_tier(item: Claimed, tier: Tier, now: datetime) -> None:
    """Back in the queue until the oldest counted customer leaves the 24 hours."""
    item.state = State.PENDING
    item.finished_at = None
    item.reason = (
        f"Waiting: this number may start conversations with {tier.limit:,} customers per "
        "24 hours (its messaging tier), and that many were reached."
    )
    free_at = (tier.oldest or now) + timedelta(hours=24)
    item.not_before = max(free_at, now + timedelta(minutes=1))


def _source_checks(workspace_id: int, items: list[Claimed]) -> dict[int, str]:
    skip: dict[int, str] = {}
    by_source: dict[str, list[hooks.PrecheckItem]] = {}
    for item in items:
        by_source.setdefault(item.source, []).append(
            hooks.PrecheckItem(
                item_id=item.id, source_id=item.source_id, contact_id=item.contact_id
            )
        )
    for source, checks in by_source.items():
        precheck = hooks.precheck_for(source)
        if precheck is not None:
            skip.update(precheck(workspace_id, checks))
    return skip


def _conversations(channel: Channel, contact_ids: set[int]) -> dict[int, _Conversation]:
    return {
        contact_id: _Conversation(id=pk, last_inbound_at=last_inbound)
        for pk, contact_id, last_inbound in Conversation.objects.filter(
            channel=channel, contact_id__in=contact_ids
        ).values_list("id", "contact_id", "last_inbound_at")
    }


def _start_conversations(
    channel: Channel, ready: list[tuple[Claimed, _Message]], now: datetime
) -> None:
    """Each message's conversation: the contact's thread on this number, moved
    to the top with the message as its preview, or a new one written with
    them. A business-initiated thread starts resolved: it joins the agents'
    queue when the customer answers, not when a broadcast goes out."""
    previews: dict[int, str] = {}
    for item, message in ready:
        previews[item.contact_id] = (message.text or f"[{message.type}]")[:200]
    new = sorted({item.contact_id for item, m in ready if not m.conversation_id})
    created: dict[int, int] = {}
    with connection.cursor() as cursor:
        if new:
            cursor.execute(
                """INSERT INTO inbox_conversation (workspace_id, channel_id, contact_id, status,
                       unread_count, last_message_preview, created_at, last_message_at)
                   SELECT %s, %s, v.c, %s, 0, v.p, %s, %s
                     FROM jsonb_to_recordset(%s::jsonb) AS v(c bigint, p text)
                   ON CONFLICT DO NOTHING
                   RETURNING contact_id, id""",
                [
                    channel.workspace_id,
                    channel.pk,
                    Conversation.Status.RESOLVED,
                    now,
                    now,
                    json.dumps([{"c": c, "p": previews[c]} for c in new]),
                ],
            )
            created = dict(cursor.fetchall())
            # A conflict is a thread the inbox opened meanwhile: use that one.
            raced = dict(
                Conversation.objects.filter(
                    channel=channel, contact_id__in=[c for c in new if c not in created]
                ).values_list("contact_id", "id")
            )
            for item, message in ready:
                if not message.conversation_id:
                    message.conversation_id = created.get(item.contact_id) or raced[item.contact_id]
        # Threads that existed already: the new message moves them up.
        touched = {
            m.conversation_id: previews[i.contact_id]
            for i, m in ready
            if created.get(i.contact_id) != m.conversation_id
        }
        if touched:
            cursor.execute(
                """UPDATE inbox_conversation c
                      SET last_message_at = %s, last_message_preview = v.p
                     FROM jsonb_to_recordset(%s::jsonb) AS v(i bigint, p text)
                    WHERE c.id = v.i AND c.workspace_id = %s""",
                [
                    now,
                    json.dumps([{"i": i, "p": p} for i, p in touched.items()]),
                    channel.workspace_id,
                ],
            )


def _counted_in_tier(channel: Channel, contact_ids: set[int], now: datetime) -> set[int]:
    return set(
        TierContact.objects.filter(
            channel=channel, contact_id__in=contact_ids, last_at__gt=now - timedelta(hours=24)
        ).values_list("contact_id", flat=True)
    )


def _remember_tier(channel: Channel, contact_ids: list[int], now: datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO outbox_tiercontact (workspace_id, channel_id, contact_id, last_at)
               SELECT %s, %s, unnest(%s::bigint[]), %s
               ON CONFLICT (workspace_id, channel_id, contact_id)
               DO UPDATE SET last_at = excluded.last_at
               WHERE outbox_tiercontact.last_at <= excluded.last_at - interval '24 hours'""",
            [channel.workspace_id, channel.pk, int_array(contact_ids), now],
        )
