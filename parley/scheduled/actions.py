"""Every change to scheduled messages: schedule, edit, cancel.

A scheduled message is one outbox item. Editing and cancelling lock that item
row first and only go ahead while it is still queued: the dispatcher claims
due items with ``FOR UPDATE SKIP LOCKED``, so either it has the item (then it
is "sending" and we refuse) or we do (then it waits for our commit and sends
what we saved)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from django.db import transaction
from django.utils import timezone

from parley.core.errors import ActionError, Conflict
from parley.crm.models import Contact
from parley.inbox.models import Conversation
from parley.inbox.window import WINDOW
from parley.msgtemplates.render import RenderError, compile_template, validate_mapping
from parley.outbox import actions as outbox
from parley.outbox.models import OutboundContent, OutboundItem
from parley.scheduled import when as when_
from parley.scheduled.models import SOURCE, Kind, ScheduledMessage
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.whatsapp.models import Channel, MessageTemplate

MAX_TEXT = 4096
# Scheduled messages share the outbox's one-off lane (broadcasts and drips
# take their own ids), so a big broadcast does not hold a reminder up.
LANE = 0
State = OutboundItem.State


class Keep(Enum):
    """'Leave this as it is' in an edit."""

    KEEP = 0


KEEP = Keep.KEEP


@dataclass(frozen=True)
class What:
    """What to send: a text (with an optional fallback template for when the
    24-hour window has closed by then) or a template."""

    kind: str
    text: str = ""
    template: MessageTemplate | None = None
    mapping: dict[str, Any] = field(default_factory=dict)
    fallback_template: MessageTemplate | None = None
    fallback_mapping: dict[str, Any] = field(default_factory=dict)


def is_approved(template: MessageTemplate) -> bool:
    return template.status.upper() == "APPROVED"


def approved_templates(actor: Actor, channel_id: int | None = None) -> list[MessageTemplate]:
    """Templates a scheduled message may use (of one channel, or every channel's)."""
    qs = MessageTemplate.objects.filter(workspace=actor.workspace, status__iexact="approved")
    if channel_id is not None:
        qs = qs.filter(channel_id=channel_id)
    return list(qs.order_by("name", "language"))


def template_by_id(actor: Actor, template_id: int, *, field: str) -> MessageTemplate:
    """A template of this workspace (missing and not-yours read alike)."""
    template = MessageTemplate.objects.filter(workspace=actor.workspace, pk=template_id).first()
    if template is None:
        raise ActionError(
            "No such template in this workspace.", code="unknown_template", field=field
        )
    return template


def _check_template(
    template: MessageTemplate,
    mapping: dict[str, Any],
    *,
    channel: Channel,
    contact: Contact,
    field: str,
    mapping_field: str,
    what: str,
) -> None:
    if template.channel_id != channel.pk:
        raise ActionError(
            f"The {what} {template.name} ({template.language}) belongs to another number; "
            f"pick one of {channel.name}'s templates.",
            code="template_channel",
            field=field,
        )
    if not is_approved(template):
        raise ActionError(
            f"The {what} {template.name} ({template.language}) is not approved by Meta "
            f"(its status is {template.status.lower() or 'unknown'}); pick an approved one.",
            code="template_not_approved",
            field=field,
        )
    for key, entry in (mapping or {}).items():
        if isinstance(entry, dict) and entry.get("source") == "column":
            raise ActionError(
                f"Variable {key}: a scheduled message has no CSV columns; use a contact field, "
                "an attribute or a fixed value.",
                code="invalid_mapping",
                field=mapping_field,
            )
    try:
        validate_mapping(template, mapping)
    except ActionError as exc:
        raise ActionError(exc.message, code=exc.code, field=mapping_field) from exc
    # One contact, known now: a variable it has no value for would only fail
    # at send time, so say it while the person can still add a fallback.
    try:
        compile_template(template, mapping).render(contact, {})
    except RenderError as exc:
        raise ActionError(
            f"{exc.reason} Add a fallback or pick another source.",
            code="missing_value",
            field=mapping_field,
        ) from exc


def _check_what(what: What, *, channel: Channel, contact: Contact) -> What:
    if what.kind == Kind.TEXT:
        text = what.text.strip()
        if not text:
            raise ActionError("Type the message.", code="required", field="text")
        if len(text) > MAX_TEXT:
            raise ActionError(
                f"A WhatsApp text is at most {MAX_TEXT:,} characters (this one has {len(text):,}).",
                code="too_long",
                field="text",
            )
        fallback = what.fallback_template
        if fallback is not None:
            _check_template(
                fallback,
                what.fallback_mapping,
                channel=channel,
                contact=contact,
                field="fallback_template_id",
                mapping_field="fallback_mapping",
                what="fallback template",
            )
        return What(
            kind=Kind.TEXT,
            text=text,
            fallback_template=fallback,
            fallback_mapping=dict(what.fallback_mapping) if fallback is not None else {},
        )
    if what.kind == Kind.TEMPLATE:
        if what.template is None:
            raise ActionError("Pick an approved template.", code="required", field="template_id")
        _check_template(
            what.template,
            what.mapping,
            channel=channel,
            contact=contact,
            field="template_id",
            mapping_field="mapping",
            what="template",
        )
        return What(kind=Kind.TEMPLATE, template=what.template, mapping=dict(what.mapping))
    raise ActionError("Send a text or a template.", code="invalid_kind", field="kind")


def _content(actor: Actor, what: What) -> OutboundContent:
    return outbox.create_content(
        workspace_id=actor.workspace.pk,
        template_id=what.template.pk if what.template is not None else None,
        mapping=what.mapping,
        text=what.text,
        fallback_template_id=(
            what.fallback_template.pk if what.fallback_template is not None else None
        ),
        fallback_mapping=what.fallback_mapping,
    )


def _resolve(actor: Actor, when: datetime) -> when_.Resolved:
    resolved = when_.read_input(when, actor.workspace.timezone)
    when_.refuse_past(resolved.send_at, actor.workspace.timezone)
    return resolved


@transaction.atomic
def do_schedule_message(
    *, actor: Actor, contact: Contact, channel: Channel, when: datetime, what: What
) -> ScheduledMessage:
    """``when`` without an offset is a wall time in the workspace's timezone."""
    actor.require(Cap.CONVERSATIONS_WORK)
    if channel.workspace_id != actor.workspace.pk or contact.workspace_id != actor.workspace.pk:
        raise ActionError("No such contact or number.", code="not_found")
    if channel.status != Channel.Status.ACTIVE:
        raise ActionError(
            f"The number {channel.name} is disabled; pick an active one.",
            code="channel_disabled",
            field="channel_id",
        )
    resolved = _resolve(actor, when)
    what = _check_what(what, channel=channel, contact=contact)
    now = timezone.now()
    content = _content(actor, what)
    scheduled = ScheduledMessage.objects.create(
        workspace=actor.workspace,
        contact=contact,
        channel=channel,
        content=content,
        kind=what.kind,
        send_at=resolved.send_at,
        local_time=resolved.local.isoformat(timespec="seconds")[:19],
        timezone_name=resolved.zone_name,
        time_note=resolved.note[:300],
        created_by=actor.user,
        created_at=now,
        updated_at=now,
    )
    # plan() kicks the channel's dispatcher when the time is (about) now.
    outbox.plan(
        workspace_id=actor.workspace.pk,
        channel_id=channel.pk,
        content_id=content.pk,
        source=SOURCE,
        source_id=scheduled.pk,
        recipients=[(contact.pk, {})],
        lane=LANE,
        not_before=resolved.send_at,
        created_by_id=actor.user_id,
    )
    scheduled.item = OutboundItem.objects.get(
        workspace=actor.workspace, source=SOURCE, source_id=scheduled.pk
    )
    scheduled.save(update_fields=["item"])
    return scheduled


def _lock_open_item(actor: Actor, scheduled: ScheduledMessage) -> OutboundItem:
    """The item, locked, if nothing has gone out yet; a Conflict otherwise."""
    item = (
        OutboundItem.objects.select_for_update()
        .filter(workspace=actor.workspace, pk=scheduled.item_id or 0)
        .first()
    )
    if item is None:
        raise Conflict(
            "This message's planned send no longer exists; schedule a new one.",
            code="gone",
        )
    scheduled.item = item
    if item.state in (State.PENDING, State.HELD):
        return item
    tz = when_.zone(actor.workspace.timezone)
    if item.state == State.SENDING:
        raise Conflict(
            "This message is being sent right now; it can no longer be changed.",
            code="already_sent",
        )
    if item.state == State.SENT:
        at = f" ({when_.label(item.finished_at, tz)})" if item.finished_at else ""
        raise Conflict(
            f"This message was already sent{at}; it can no longer be changed.",
            code="already_sent",
        )
    if item.state in (State.FAILED, State.SKIPPED):
        raise Conflict(
            f"This message already {'failed' if item.state == State.FAILED else 'was skipped'}"
            f"{': ' + item.reason if item.reason else ''} Schedule a new one.",
            code="already_finished",
        )
    raise Conflict("This message was cancelled; schedule a new one.", code="cancelled")


@transaction.atomic
def do_update_scheduled(
    *,
    actor: Actor,
    scheduled: ScheduledMessage,
    when: datetime | Keep = KEEP,
    what: What | Keep = KEEP,
) -> ScheduledMessage:
    """A new time and/or a new message, while it has not gone out."""
    actor.require(Cap.CONVERSATIONS_WORK)
    item = _lock_open_item(actor, scheduled)
    fields = ["updated_at"]
    if not isinstance(when, Keep):
        resolved = when_.read_input(when, actor.workspace.timezone)
        if resolved.send_at != scheduled.send_at:
            # Only a changed time must lie ahead: fixing the text of one that
            # is due this very second is still fine.
            when_.refuse_past(resolved.send_at, actor.workspace.timezone)
        scheduled.send_at = resolved.send_at
        scheduled.local_time = resolved.local.isoformat(timespec="seconds")[:19]
        scheduled.timezone_name = resolved.zone_name
        scheduled.time_note = resolved.note[:300]
        fields += ["send_at", "local_time", "timezone_name", "time_note"]
        item.not_before = resolved.send_at
        item.reason = ""  # e.g. a tier wait: the new time starts afresh
    old_content_id: int | None = None
    if not isinstance(what, Keep):
        what = _check_what(what, channel=scheduled.channel, contact=scheduled.contact)
        # A new content row rather than an edit in place: a dispatcher run
        # caches contents by id, and must never send half of each. The old
        # one is the locked item's (a concurrent edit may have replaced ours).
        old_content_id = item.content_id
        content = _content(actor, what)
        scheduled.content = content
        scheduled.kind = what.kind
        item.content = content
        fields += ["content", "kind"]
    scheduled.updated_at = timezone.now()
    scheduled.save(update_fields=fields)
    item.save(update_fields=["not_before", "reason", "content"])
    if old_content_id is not None:
        OutboundContent.objects.filter(workspace=actor.workspace, pk=old_content_id).delete()
    outbox.kick(workspace_id=actor.workspace.pk, channel_id=item.channel_id, at=item.not_before)
    return scheduled


@transaction.atomic
def do_cancel_scheduled(*, actor: Actor, scheduled: ScheduledMessage) -> ScheduledMessage:
    """Cancel before it fires (cancelling a cancelled one again is harmless)."""
    actor.require(Cap.CONVERSATIONS_WORK)
    if scheduled.item is not None and scheduled.item.state == State.CANCELLED:
        return scheduled
    try:
        item = _lock_open_item(actor, scheduled)
    except Conflict as exc:
        if exc.code == "cancelled":
            return scheduled
        raise
    outbox.cancel(
        workspace_id=actor.workspace.pk,
        source=SOURCE,
        source_id=scheduled.pk,
        item_ids=[item.pk],
    )
    item.refresh_from_db(fields=["state", "reason", "finished_at"])
    scheduled.updated_at = timezone.now()
    scheduled.save(update_fields=["updated_at"])
    return scheduled


def window_note(scheduled: ScheduledMessage, now: datetime | None = None) -> str:
    """For a text: whether the 24-hour window will still be open at its time,
    and what happens if not. Empty when there is nothing to say."""
    if scheduled.kind != Kind.TEXT or not scheduled.is_open:
        return ""
    last = (
        Conversation.objects.filter(
            workspace_id=scheduled.workspace_id,
            contact_id=scheduled.contact_id,
            channel_id=scheduled.channel_id,
        )
        .values_list("last_inbound_at", flat=True)
        .first()
    )
    closes = last + WINDOW if last is not None else None
    if closes is not None and closes > scheduled.send_at:
        return ""
    from parley.tenancy.models import Workspace

    tz_name = (
        Workspace.objects.values_list("timezone", flat=True).get(pk=scheduled.workspace_id) or "UTC"
    )
    tz = when_.zone(tz_name)
    name = scheduled.contact.display_name
    if closes is None:
        why = f"{name} has not written on this number yet, so no 24-hour window will be open"
    elif closes <= (now or timezone.now()):
        why = f"The 24-hour window with {name} is closed (since {when_.label(closes, tz)})"
    else:
        why = f"The 24-hour window with {name} closes {when_.label(closes, tz)}, before this is due"
    fallback = scheduled.content.fallback_template
    if fallback is not None:
        return f"{why}: unless they write again, the fallback template {fallback.name} is sent."
    return (
        f"{why}: unless they write again first, the text will fail. Add a fallback template "
        "to reach them anyway."
    )


def what_of(scheduled: ScheduledMessage) -> What:
    """What a scheduled message sends now (the base of a partial edit)."""
    content = scheduled.content
    return What(
        kind=scheduled.kind,
        text=content.text,
        template=content.template,
        mapping=dict(content.mapping or {}),
        fallback_template=content.fallback_template,
        fallback_mapping=dict(content.fallback_mapping or {}),
    )
