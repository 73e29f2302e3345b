"""Every change to broadcasts: drafting, the audience, starting (now or at a
time, after the quota checks), steering (pause, resume, cancel, retry) and
completion (told by the outbox when items finish)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from parley.broadcasts import audience, quota
from parley.broadcasts.models import AudienceKind, Broadcast, Status
from parley.core import domain_events
from parley.core.errors import ActionError, Conflict
from parley.crm.models import Tag
from parley.msgtemplates.render import validate_mapping
from parley.outbox import actions as outbox
from parley.outbox.hooks import Finished
from parley.outbox.models import OutboundItem
from parley.segments.models import Segment
from parley.tenancy.actor import Actor
from parley.tenancy.models import Workspace
from parley.tenancy.roles import Cap
from parley.whatsapp.models import Channel, MessageTemplate

SOURCE = "broadcast"
APPROVED = "APPROVED"
MAX_AHEAD = timedelta(days=365)
MAX_TAGS = 50
# A time typed a little in the past (the minute it was typed in) means "now".
GRACE = timedelta(minutes=2)
State = OutboundItem.State
UNFINISHED = (State.PENDING, State.HELD, State.SENDING)


class Unset:
    """'Leave this as it is' in an update, where None means 'clear it'."""


UNSET = Unset()


def workspace_tz(workspace: Workspace) -> ZoneInfo:
    try:
        return ZoneInfo(workspace.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def aware(workspace: Workspace, when: datetime) -> datetime:
    """A time without a zone is the workspace's local time."""
    if timezone.is_aware(when):
        return when
    return when.replace(tzinfo=workspace_tz(workspace))


def _clean_name(name: str) -> str:
    name = " ".join(name.split())[:120]
    if not name:
        raise ActionError("Give the broadcast a name.", code="required", field="name")
    return name


def _channel(actor: Actor, channel_id: int) -> Channel:
    channel = Channel.objects.filter(workspace=actor.workspace, pk=channel_id).first()
    if channel is None:
        raise ActionError(
            "Choose one of your channels.", code="invalid_channel", field="channel_id"
        )
    return channel


def _template(actor: Actor, channel: Channel, template_id: int) -> MessageTemplate:
    template = MessageTemplate.objects.filter(workspace=actor.workspace, pk=template_id).first()
    if template is None:
        raise ActionError(
            "Choose one of your templates.", code="invalid_template", field="template_id"
        )
    if template.channel_id != channel.pk:
        raise ActionError(
            f"The template {template.name} belongs to another channel: choose one of "
            f"{channel.name}'s templates.",
            code="invalid_template",
            field="template_id",
        )
    return template


def _require_approved(template: MessageTemplate) -> None:
    if template.status != APPROVED:
        raise ActionError(
            f"The template {template.name} ({template.language}) is "
            f"{template.status.lower() or 'not approved'}: only approved templates can be "
            "broadcast.",
            code="template_not_approved",
            field="template_id",
        )


def _segment(actor: Actor, segment_id: int) -> Segment:
    segment = Segment.objects.filter(workspace=actor.workspace, pk=segment_id).first()
    if segment is None:
        raise ActionError(
            "Choose one of your segments.", code="invalid_segment", field="segment_id"
        )
    return segment


def _tag_ids(actor: Actor, tag_ids: list[int]) -> list[int]:
    wanted = sorted({int(t) for t in tag_ids})
    if len(wanted) > MAX_TAGS:
        raise ActionError(f"Choose at most {MAX_TAGS} tags.", code="too_many", field="tag_ids")
    found = set(
        Tag.objects.filter(workspace=actor.workspace, pk__in=wanted).values_list("pk", flat=True)
    )
    if len(found) != len(wanted):
        raise ActionError("Choose tags of this workspace.", code="invalid_tag", field="tag_ids")
    return wanted


def _editable(broadcast: Broadcast) -> None:
    if not broadcast.is_draft:
        raise Conflict(
            f"This broadcast is {broadcast.get_status_display().lower()}: only drafts can be "
            "changed.",
            code="not_draft",
        )


def _touch(broadcast: Broadcast, fields: list[str]) -> None:
    broadcast.updated_at = timezone.now()
    broadcast.save(update_fields=[*fields, "updated_at"])


@transaction.atomic
def do_create_broadcast(
    *,
    actor: Actor,
    name: str,
    channel_id: int,
    template_id: int | None = None,
    mapping: dict[str, Any] | None = None,
    audience_kind: str = AudienceKind.SEGMENT,
    segment_id: int | None = None,
    tag_ids: list[int] | None = None,
) -> Broadcast:
    """A draft: nothing is planned until it starts."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    broadcast = Broadcast(
        workspace=actor.workspace,
        name=_clean_name(name),
        channel=_channel(actor, channel_id),
        created_by=actor.user,
    )
    _apply(
        actor,
        broadcast,
        template_id=template_id,
        mapping=mapping,
        audience_kind=audience_kind,
        segment_id=segment_id,
        tag_ids=tag_ids,
    )
    broadcast.save()
    return broadcast


def _apply(
    actor: Actor,
    broadcast: Broadcast,
    *,
    template_id: int | Unset | None = UNSET,
    mapping: dict[str, Any] | Unset | None = UNSET,
    audience_kind: str | Unset = UNSET,
    segment_id: int | Unset | None = UNSET,
    tag_ids: list[int] | Unset | None = UNSET,
    csv_phone_column: str | Unset = UNSET,
) -> None:
    if not isinstance(template_id, Unset):
        broadcast.template = (
            _template(actor, broadcast.channel, template_id) if template_id is not None else None
        )
        if broadcast.template is not None:
            _require_approved(broadcast.template)
    if not isinstance(mapping, Unset):
        if mapping is not None and not isinstance(mapping, dict):
            raise ActionError(
                "The mapping is an object of variable -> source.",
                code="invalid_mapping",
                field="mapping",
            )
        broadcast.mapping = mapping or {}
    if not isinstance(audience_kind, Unset):
        if audience_kind not in AudienceKind.values:
            raise ActionError(
                f"audience_kind is one of {', '.join(AudienceKind.values)}.",
                code="invalid_audience",
                field="audience_kind",
            )
        broadcast.audience_kind = audience_kind
    if not isinstance(segment_id, Unset):
        broadcast.segment = _segment(actor, segment_id) if segment_id is not None else None
    if not isinstance(tag_ids, Unset):
        broadcast.tag_ids = _tag_ids(actor, tag_ids or [])
    if not isinstance(csv_phone_column, Unset):
        if csv_phone_column and csv_phone_column not in broadcast.csv_header:
            raise ActionError(
                f"The file has no column {csv_phone_column!r}.",
                code="invalid_column",
                field="csv_phone_column",
            )
        broadcast.csv_phone_column = csv_phone_column
    # A template whose channel no longer matches (the channel changed) is dropped.
    if broadcast.template is not None and broadcast.template.channel_id != broadcast.channel_id:
        broadcast.template = None
    if broadcast.template is not None and broadcast.mapping:
        _check_mapping(broadcast)


def _check_mapping(broadcast: Broadcast) -> None:
    """The template's own rules (msgtemplates.render), then the CSV columns:
    a column must exist in the uploaded file, and only a CSV audience has columns."""
    assert broadcast.template is not None
    validate_mapping(broadcast.template, broadcast.mapping)
    for key, entry in broadcast.mapping.items():
        if not isinstance(entry, dict) or entry.get("source") != "column":
            continue
        column = str(entry.get("column") or "")
        if broadcast.audience_kind != AudienceKind.CSV:
            raise ActionError(
                f"Variable {key} takes the CSV column {column!r}, but this broadcast's "
                "audience is not a CSV file: map it to a contact field, an attribute or a "
                "fixed value.",
                code="invalid_mapping",
                field="mapping",
            )
        if broadcast.csv_header and column not in broadcast.csv_header:
            raise ActionError(
                f"Variable {key} takes the column {column!r}, which the uploaded file does not "
                f"have (its columns: {', '.join(broadcast.csv_header)}).",
                code="invalid_mapping",
                field="mapping",
            )


def mapped_columns(broadcast: Broadcast) -> list[str]:
    columns = []
    for entry in broadcast.mapping.values():
        if isinstance(entry, dict) and entry.get("source") == "column":
            column = str(entry.get("column") or "")
            if column and column not in columns:
                columns.append(column)
    return columns


@transaction.atomic
def do_update_broadcast(
    *,
    actor: Actor,
    broadcast: Broadcast,
    name: str | Unset = UNSET,
    channel_id: int | Unset = UNSET,
    template_id: int | Unset | None = UNSET,
    mapping: dict[str, Any] | Unset | None = UNSET,
    audience_kind: str | Unset = UNSET,
    segment_id: int | Unset | None = UNSET,
    tag_ids: list[int] | Unset | None = UNSET,
    csv_phone_column: str | Unset = UNSET,
) -> Broadcast:
    """Change a draft; only the arguments given change."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    _editable(broadcast)
    if not isinstance(name, Unset):
        broadcast.name = _clean_name(name)
    if not isinstance(channel_id, Unset):
        broadcast.channel = _channel(actor, channel_id)
    _apply(
        actor,
        broadcast,
        template_id=template_id,
        mapping=mapping,
        audience_kind=audience_kind,
        segment_id=segment_id,
        tag_ids=tag_ids,
        csv_phone_column=csv_phone_column,
    )
    _touch(
        broadcast,
        [
            "name",
            "channel",
            "template",
            "mapping",
            "audience_kind",
            "segment",
            "tag_ids",
            "csv_phone_column",
        ],
    )
    return broadcast


@transaction.atomic
def do_upload_audience_csv(*, actor: Actor, broadcast: Broadcast, upload: File[Any]) -> Broadcast:
    """Store the file (it replaces any earlier one), read its header, guess
    the phone column; the audience becomes this file."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    _editable(broadcast)
    stored = audience.store_csv(actor.workspace.pk, upload)
    previous = broadcast.csv_file
    broadcast.audience_kind = AudienceKind.CSV
    broadcast.csv_file = stored.path
    broadcast.csv_filename = stored.filename
    broadcast.csv_format = stored.fmt
    broadcast.csv_encoding = stored.encoding
    broadcast.csv_delimiter = stored.delimiter
    broadcast.csv_header = stored.header
    broadcast.csv_rows_estimate = stored.rows_estimate
    if broadcast.csv_phone_column not in stored.header:
        broadcast.csv_phone_column = audience.guess_phone_column(stored.header)
    try:
        _touch(
            broadcast,
            [
                "audience_kind",
                "csv_file",
                "csv_filename",
                "csv_format",
                "csv_encoding",
                "csv_delimiter",
                "csv_header",
                "csv_rows_estimate",
                "csv_phone_column",
            ],
        )
    except Exception:
        audience.delete_file(stored.path)
        raise
    # The old file goes once the new one is committed (a rollback keeps it in use).
    if previous and previous != stored.path:
        transaction.on_commit(lambda: audience.delete_file(previous))
    return broadcast


@transaction.atomic
def do_delete_broadcast(*, actor: Actor, broadcast: Broadcast) -> None:
    """Drafts only: a started broadcast is history (cancel it instead)."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    _editable(broadcast)
    path = broadcast.csv_file
    broadcast.delete()
    if path:
        transaction.on_commit(lambda: audience.delete_file(path))


def _when(actor: Actor, scheduled_at: datetime | None) -> datetime | None:
    """None for now; else an aware time in the future (a time without a
    zone is read in the workspace's timezone)."""
    if scheduled_at is None:
        return None
    # Kept in the workspace's zone, so what comes back reads as local time.
    when = aware(actor.workspace, scheduled_at).astimezone(workspace_tz(actor.workspace))
    now = timezone.now()
    if when <= now:
        if when >= now - GRACE:
            return None
        local = when.astimezone(workspace_tz(actor.workspace))
        raise ActionError(
            f"{local:%Y-%m-%d %H:%M} ({actor.workspace.timezone}) has passed: choose a later "
            "time, or send now.",
            code="in_the_past",
            field="scheduled_at",
        )
    if when > now + MAX_AHEAD:
        raise ActionError(
            "Schedule a broadcast at most a year ahead.", code="too_far", field="scheduled_at"
        )
    return when


def _ready(broadcast: Broadcast) -> None:
    """Everything a start needs, checked before any planning."""
    if broadcast.channel.status != Channel.Status.ACTIVE:
        raise ActionError(
            f"The channel {broadcast.channel.name} is disabled: enable it or choose another.",
            code="channel_disabled",
            field="channel_id",
        )
    if broadcast.template is None:
        raise ActionError("Choose the template to send.", code="no_template", field="template_id")
    if broadcast.template.channel_id != broadcast.channel_id:
        raise ActionError(
            "The template belongs to another channel.",
            code="invalid_template",
            field="template_id",
        )
    _require_approved(broadcast.template)
    _check_mapping(broadcast)
    if broadcast.audience_kind == AudienceKind.CSV and not broadcast.csv_file:
        raise ActionError("Upload the CSV file of recipients.", code="no_audience", field="file")


def _plan(actor: Actor, broadcast: Broadcast, not_before: datetime | None) -> audience.Counts:
    """Plan every recipient; the quota checks refuse (rolling all of it
    back) when the audience is too large."""
    assert broadcast.content is not None
    common: dict[str, Any] = {
        "workspace_id": broadcast.workspace_id,
        "channel_id": broadcast.channel_id,
        "content_id": broadcast.content.pk,
        "source": SOURCE,
        "source_id": broadcast.pk,
        "not_before": not_before,
        "created_by_id": actor.user_id,
    }
    if broadcast.audience_kind == AudienceKind.CSV:
        counts = audience.Counts()
        recipients = audience.csv_recipients(
            broadcast,
            columns=mapped_columns(broadcast),
            country=actor.workspace.default_country,
            counts=counts,
        )
        planned = outbox.plan(**common, recipients=recipients)
        assert planned == counts.planned
        quota.check_monthly(broadcast, counts.planned)
    else:
        counts = audience.query_counts(broadcast)
        # Known before planning: refuse a too-large audience without writing it.
        quota.check_monthly(broadcast, counts.planned)
        counts.planned = outbox.plan_query(
            **common, contact_ids=audience.sendable_ids_sql(broadcast)
        )
    if counts.planned == 0:
        skipped = counts.opted_out + counts.invalid + counts.duplicate
        raise ActionError(
            "Nobody in this audience can be sent to"
            + (f" ({_skips(counts)})." if skipped else ": it is empty."),
            code="empty_audience",
        )
    quota.check_tier(broadcast, counts.planned)
    return counts


def _skips(counts: audience.Counts) -> str:
    parts = []
    if counts.opted_out:
        parts.append(f"{counts.opted_out:,} opted out")
    if counts.invalid:
        parts.append(f"{counts.invalid:,} invalid numbers")
    if counts.duplicate:
        parts.append(f"{counts.duplicate:,} duplicates")
    return ", ".join(parts)


@transaction.atomic
def do_start_broadcast(
    *, actor: Actor, broadcast: Broadcast, scheduled_at: datetime | None = None
) -> Broadcast:
    """Send now, or at ``scheduled_at``: the items are planned now (due at
    that time), so the counts and the quota checks are final at once. A
    refusal plans nothing."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    # Locked: a double click must not plan the audience twice.
    broadcast = Broadcast.objects.select_for_update().get(
        workspace=actor.workspace, pk=broadcast.pk
    )
    _editable(broadcast)
    _ready(broadcast)
    when = _when(actor, scheduled_at)
    assert broadcast.template is not None
    broadcast.content = outbox.create_content(
        workspace_id=actor.workspace.pk,
        template_id=broadcast.template.pk,
        mapping=broadcast.mapping,
    )
    broadcast.save(update_fields=["content"])
    counts = _plan(actor, broadcast, when)
    now = timezone.now()
    broadcast.audience_size = counts.planned
    broadcast.skipped_opted_out = counts.opted_out
    broadcast.skipped_invalid = counts.invalid
    broadcast.skipped_duplicate = counts.duplicate
    if when is None:
        broadcast.status = Status.SENDING
        broadcast.started_at = now
        broadcast.scheduled_at = None
    else:
        broadcast.status = Status.SCHEDULED
        broadcast.scheduled_at = when
    _touch(
        broadcast,
        [
            "audience_size",
            "skipped_opted_out",
            "skipped_invalid",
            "skipped_duplicate",
            "status",
            "started_at",
            "scheduled_at",
        ],
    )
    return broadcast


def _lock(actor: Actor, broadcast: Broadcast) -> Broadcast:
    return Broadcast.objects.select_for_update().get(workspace=actor.workspace, pk=broadcast.pk)


def _items(broadcast: Broadcast) -> Any:
    return OutboundItem.objects.filter(
        workspace_id=broadcast.workspace_id, source=SOURCE, source_id=broadcast.pk
    )


@transaction.atomic
def do_reschedule_broadcast(
    *, actor: Actor, broadcast: Broadcast, scheduled_at: datetime | None
) -> Broadcast:
    """Move a scheduled broadcast to another time (None: send now)."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    broadcast = _lock(actor, broadcast)
    if broadcast.shown_status != Status.SCHEDULED:
        raise Conflict(
            "Only a broadcast waiting for its time can be rescheduled.", code="not_scheduled"
        )
    when = _when(actor, scheduled_at)
    due = when or timezone.now()
    # The outbox has no "move" for pending items; they are this broadcast's own.
    _items(broadcast).filter(state=State.PENDING).update(not_before=due)
    outbox.kick(workspace_id=broadcast.workspace_id, channel_id=broadcast.channel_id, at=when)
    if when is None:
        broadcast.status = Status.SENDING
        broadcast.started_at = timezone.now()
        broadcast.scheduled_at = None
    else:
        broadcast.scheduled_at = when
    _touch(broadcast, ["status", "started_at", "scheduled_at"])
    return broadcast


@transaction.atomic
def do_pause_broadcast(*, actor: Actor, broadcast: Broadcast) -> Broadcast:
    """Queued recipients wait; messages already on their way finish."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    broadcast = _lock(actor, broadcast)
    if broadcast.status not in (Status.SENDING, Status.SCHEDULED):
        raise Conflict(
            f"This broadcast is {broadcast.get_status_display().lower()}: only a sending or "
            "scheduled one can be paused.",
            code="not_running",
        )
    outbox.hold(workspace_id=broadcast.workspace_id, source=SOURCE, source_id=broadcast.pk)
    broadcast.status = Status.PAUSED
    _touch(broadcast, ["status"])
    _settle(broadcast)
    return broadcast


@transaction.atomic
def do_resume_broadcast(*, actor: Actor, broadcast: Broadcast) -> Broadcast:
    actor.require(Cap.CAMPAIGNS_MANAGE)
    broadcast = _lock(actor, broadcast)
    if broadcast.status != Status.PAUSED:
        raise Conflict("Only a paused broadcast can be resumed.", code="not_paused")
    outbox.release(workspace_id=broadcast.workspace_id, source=SOURCE, source_id=broadcast.pk)
    waiting = broadcast.scheduled_at is not None and broadcast.scheduled_at > timezone.now()
    broadcast.status = Status.SCHEDULED if waiting else Status.SENDING
    if not waiting and broadcast.started_at is None:
        broadcast.started_at = timezone.now()
    _touch(broadcast, ["status", "started_at"])
    _settle(broadcast)
    return broadcast


@transaction.atomic
def do_cancel_broadcast(*, actor: Actor, broadcast: Broadcast) -> Broadcast:
    """Nobody still queued or paused gets it; what went out stays sent."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    broadcast = _lock(actor, broadcast)
    if broadcast.status not in (Status.SCHEDULED, Status.SENDING, Status.PAUSED):
        raise Conflict(
            f"This broadcast is {broadcast.get_status_display().lower()}: there is nothing "
            "to cancel.",
            code="not_running",
        )
    outbox.cancel(workspace_id=broadcast.workspace_id, source=SOURCE, source_id=broadcast.pk)
    broadcast.status = Status.CANCELLED
    broadcast.finished_at = timezone.now()
    _touch(broadcast, ["status", "finished_at"])
    return broadcast


@transaction.atomic
def do_retry_failed(*, actor: Actor, broadcast: Broadcast) -> int:
    """Queue the failed recipients again (each gets a new message); returns
    how many. A paused broadcast keeps them paused until it resumes."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    broadcast = _lock(actor, broadcast)
    if broadcast.status not in (Status.SENDING, Status.PAUSED, Status.COMPLETED):
        raise Conflict(
            f"This broadcast is {broadcast.get_status_display().lower()}: only a started, "
            "not cancelled broadcast can retry its failed recipients.",
            code="not_retryable",
        )
    count = outbox.retry_failed(
        workspace_id=broadcast.workspace_id, source=SOURCE, source_id=broadcast.pk
    )
    if not count:
        return 0
    if broadcast.status == Status.PAUSED:
        outbox.hold(workspace_id=broadcast.workspace_id, source=SOURCE, source_id=broadcast.pk)
    elif broadcast.status == Status.COMPLETED:
        broadcast.status = Status.SENDING
        broadcast.finished_at = None
        _touch(broadcast, ["status", "finished_at"])
    return count


def _settle(broadcast: Broadcast, finished_at: datetime | None = None) -> bool:
    """Completed once no item can still go out (a cheap EXISTS on the
    outbox's source index). Returns whether it completed now."""
    if broadcast.status not in (Status.SENDING, Status.SCHEDULED, Status.PAUSED):
        return False
    if _items(broadcast).filter(state__in=UNFINISHED).exists():
        return False
    broadcast.status = Status.COMPLETED
    broadcast.finished_at = finished_at or timezone.now()
    if broadcast.started_at is None:
        broadcast.started_at = broadcast.scheduled_at or broadcast.finished_at
    _touch(broadcast, ["status", "finished_at", "started_at"])
    domain_events.emit(
        broadcast.workspace_id, domain_events.BROADCAST_FINISHED, broadcast_id=broadcast.pk
    )
    return True


def on_items_finished(workspace_id: int, finished: list[Finished]) -> None:
    """The outbox's hook: items of broadcasts reached sent, failed or
    skipped. A scheduled broadcast whose items go out is sending; one with
    nothing left to send is completed."""
    latest: dict[int, datetime] = defaultdict(lambda: datetime.min.replace(tzinfo=UTC))
    for item in finished:
        latest[item.source_id] = max(latest[item.source_id], item.finished_at)
    with transaction.atomic():
        rows = Broadcast.objects.select_for_update().filter(
            workspace_id=workspace_id,
            pk__in=list(latest),
            status__in=[Status.SCHEDULED, Status.SENDING, Status.PAUSED],
        )
        for broadcast in rows:
            if _settle(broadcast, latest[broadcast.pk]):
                continue
            if broadcast.status == Status.SCHEDULED:
                broadcast.status = Status.SENDING
                broadcast.started_at = broadcast.started_at or broadcast.scheduled_at
                _touch(broadcast, ["status", "started_at"])
