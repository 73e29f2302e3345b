"""Broadcast pages: the list with a "new broadcast" form, a draft's editor
(audience, template, variables, send now or schedule), and a started
broadcast's live progress with its recipients. Thin: rules live in actions.
Times are shown and typed in the workspace's timezone."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from parley.broadcasts import access, actions, audience, exports, quota
from parley.broadcasts.models import AudienceKind, Broadcast, Status
from parley.core.errors import ActionError
from parley.crm.models import AttributeDefinition, Tag
from parley.msgtemplates.render import mapping_from_form
from parley.outbox.stats import Progress
from parley.segments.models import Segment
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.tenancy.web import flash_action, workspace_view
from parley.whatsapp.models import Channel, MessageTemplate

PAGE = 50
LIST_PAGE = 100
# The chart's bands, in funnel order, with their colours.
BANDS = [
    ("read", "Read", "#067647"),
    ("delivered_only", "Delivered", "#32d583"),
    ("sent_only", "Sent", "#a6f4c5"),
    ("sending", "Sending", "#84caff"),
    ("queued", "Queued", "#d0d5dd"),
    ("paused", "Paused", "#fedf89"),
    ("failed", "Failed", "#f04438"),
    ("skipped", "Skipped", "#fdb022"),
    ("cancelled", "Cancelled", "#98a2b3"),
]


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _detail(actor: Actor, broadcast: Broadcast) -> HttpResponseBase:
    return redirect("broadcasts_detail", slug=actor.workspace.slug, broadcast_id=broadcast.pk)


def _channels(actor: Actor) -> list[Channel]:
    return list(Channel.objects.filter(workspace=actor.workspace).order_by("name"))


@workspace_view(Cap.CAMPAIGNS_READ)
def broadcasts_index(request: HttpRequest, actor: Actor) -> HttpResponse:
    status = request.GET.get("status") or ""
    status = status if status in Status.values else ""
    before = _int(request.GET.get("before"))
    qs = access.broadcast_list(actor, status=status or None).order_by("-id")
    if before:
        qs = qs.filter(id__lt=before)
    rows = list(qs[: LIST_PAGE + 1])
    older = rows[LIST_PAGE - 1].pk if len(rows) > LIST_PAGE else None
    rows = rows[:LIST_PAGE]
    progress = access.progress_of(actor, rows)
    with timezone.override(actions.workspace_tz(actor.workspace)):
        return render(
            request,
            "broadcasts/index.html",
            {
                "rows": [(b, progress[b.pk]) for b in rows],
                "status": status,
                "older": older,
                "statuses": Status.choices,
                "channels": _channels(actor),
                "can_manage": actor.can(Cap.CAMPAIGNS_MANAGE),
            },
        )


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_POST
def broadcasts_create(request: HttpRequest, actor: Actor) -> HttpResponseBase:
    try:
        broadcast = actions.do_create_broadcast(
            actor=actor,
            name=request.POST.get("name", ""),
            channel_id=_int(request.POST.get("channel_id")) or 0,
        )
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect("broadcasts_index", slug=actor.workspace.slug)
    return _detail(actor, broadcast)


def _templates(actor: Actor, broadcast: Broadcast) -> list[MessageTemplate]:
    return list(
        MessageTemplate.objects.filter(
            workspace=actor.workspace, channel_id=broadcast.channel_id, status=actions.APPROVED
        ).order_by("name", "language")
    )


def _attributes(actor: Actor) -> list[AttributeDefinition]:
    return list(AttributeDefinition.objects.filter(workspace=actor.workspace).order_by("label"))


def _estimate(broadcast: Broadcast) -> audience.Counts | None:
    """The audience's size now (segment or tags: one count query)."""
    try:
        if broadcast.audience_kind in (AudienceKind.SEGMENT, AudienceKind.TAGS):
            return audience.query_counts(broadcast)
    except ActionError:
        return None
    return None


def _editor(
    request: HttpRequest, actor: Actor, broadcast: Broadcast, *, error: str = "", field: str = ""
) -> HttpResponse:
    tz = actions.workspace_tz(actor.workspace)
    # A suggestion in the future (the next full hour), never "now": a time
    # already past when the button is pressed would send at once.
    suggested = (timezone.now() + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    default_when = (broadcast.scheduled_at or suggested).astimezone(tz).strftime("%Y-%m-%dT%H:%M")
    with timezone.override(tz):
        return render(
            request,
            "broadcasts/edit.html",
            {
                "broadcast": broadcast,
                "channels": _channels(actor),
                "templates": _templates(actor, broadcast),
                "segments": list(
                    Segment.objects.filter(workspace=actor.workspace).order_by("name")
                ),
                "tags": list(Tag.objects.filter(workspace=actor.workspace).order_by("name")),
                "attributes": _attributes(actor),
                "columns": broadcast.csv_header
                if broadcast.audience_kind == AudienceKind.CSV
                else [],
                "kinds": AudienceKind.choices,
                "estimate": _estimate(broadcast),
                "room": quota.room(broadcast),
                "can_manage": actor.can(Cap.CAMPAIGNS_MANAGE),
                "error": error,
                "error_field": field,
                "default_when": default_when,
                "tz_name": actor.workspace.timezone,
            },
            status=400 if error else 200,
        )


def _chart(p: Progress) -> list[dict[str, Any]]:
    """Bands of a horizontal stacked bar, each a share of all recipients."""
    values = {
        "read": p.read,
        "delivered_only": p.delivered - p.read,
        "sent_only": p.sent - p.delivered,
        "sending": p.sending,
        "queued": p.queued,
        "paused": p.paused,
        "failed": p.failed,
        "skipped": p.skipped,
        "cancelled": p.cancelled,
    }
    total = max(p.total, 1)
    bands, x = [], 0.0
    for key, label, colour in BANDS:
        count = values[key]
        if count <= 0:
            continue
        width = 100.0 * count / total
        bands.append(
            {
                "key": key,
                "label": label,
                "colour": colour,
                "count": count,
                # As text: a localised float ("0,5") would break the SVG.
                "x": f"{x:.3f}",
                "width": f"{width:.3f}",
            }
        )
        x += width
    return bands


def _funnel(p: Progress) -> list[dict[str, Any]]:
    base = max(p.total, 1)
    steps = [
        ("Planned", p.total),
        ("Sent", p.sent),
        ("Delivered", p.delivered),
        ("Read", p.read),
        ("Replied", p.replied),
    ]
    return [{"label": label, "count": n, "percent": round(100 * n / base)} for label, n in steps]


def _progress_context(actor: Actor, broadcast: Broadcast) -> dict[str, Any]:
    p = access.progress_of(actor, [broadcast])[broadcast.pk]
    shown = broadcast.shown_status
    return {
        "broadcast": broadcast,
        "p": p,
        "chart": _chart(p),
        "funnel": _funnel(p),
        # Sending: every 2 s. Scheduled: now and then, to notice the start.
        "poll": "every 2s"
        if shown == Status.SENDING
        else "every 30s"
        if shown == Status.SCHEDULED
        else "",
    }


def _recipients_context(request: HttpRequest, actor: Actor, broadcast: Broadcast) -> dict[str, Any]:
    state = request.GET.get("state") or ""
    state = state if state in access.RECIPIENT_FILTERS else ""
    after = _int(request.GET.get("after"))
    page = access.recipient_page(actor, broadcast, state=state or None, after=after, limit=PAGE)
    return {
        "broadcast": broadcast,
        "items": [
            {
                "item": item,
                "state": exports.state_label(item),
                "reason": exports.failure_reason(item),
                "replied": exports.replied(item),
            }
            for item in page.items
        ],
        "next_after": page.next_after,
        "after": after,
        "state": state,
        "filters": access.RECIPIENT_FILTERS.items(),
    }


@workspace_view(Cap.CAMPAIGNS_READ)
def broadcasts_detail(request: HttpRequest, actor: Actor, broadcast_id: int) -> HttpResponseBase:
    broadcast = access.access_broadcast(actor, broadcast_id)
    if broadcast.is_draft:
        return _editor(request, actor, broadcast)
    tz = actions.workspace_tz(actor.workspace)
    with timezone.override(tz):
        return render(
            request,
            "broadcasts/detail.html",
            {
                **_progress_context(actor, broadcast),
                **_recipients_context(request, actor, broadcast),
                "can_manage": actor.can(Cap.CAMPAIGNS_MANAGE),
                # What "retry failed" re-queues: refused sends (not those Meta
                # accepted and later reported undeliverable).
                "retryable": access.recipients(actor, broadcast).filter(state="failed").count(),
                "tz_name": actor.workspace.timezone,
                "reschedule_value": broadcast.scheduled_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M")
                if broadcast.scheduled_at
                else "",
            },
        )


def _parse_local(raw: str) -> datetime:
    try:
        return datetime.fromisoformat(raw.strip())
    except ValueError as exc:
        raise ActionError(
            "Give the date and time as YYYY-MM-DD HH:MM.", code="invalid_time", field="scheduled_at"
        ) from exc


def _save_form(request: HttpRequest, actor: Actor, broadcast: Broadcast) -> Broadcast:
    """The editor's fields, as one update (and the file, when one was chosen)."""
    post = request.POST
    upload = request.FILES.get("file")
    if upload is not None:
        broadcast = actions.do_upload_audience_csv(actor=actor, broadcast=broadcast, upload=upload)
    channel_id = _int(post.get("channel_id")) or broadcast.channel_id
    template_id = _int(post.get("template_id"))
    template = None
    if template_id is not None and channel_id == broadcast.channel_id:
        template = MessageTemplate.objects.filter(
            workspace=actor.workspace, pk=template_id, channel_id=channel_id
        ).first()
    changes: dict[str, Any] = {
        "name": post.get("name", broadcast.name),
        "channel_id": channel_id,
        # A changed channel takes none of the old channel's templates.
        "template_id": template.pk if template is not None else None,
        "mapping": mapping_from_form(template, post, prefix="var") if template else {},
        "audience_kind": AudienceKind.CSV if upload is not None else post.get("audience_kind", ""),
        "segment_id": _int(post.get("segment_id")),
        "tag_ids": [t for t in (_int(v) for v in post.getlist("tag_ids")) if t is not None],
    }
    if "csv_phone_column" in post and broadcast.csv_header:
        changes["csv_phone_column"] = post["csv_phone_column"]
    return actions.do_update_broadcast(actor=actor, broadcast=broadcast, **changes)


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_POST
def broadcasts_save(request: HttpRequest, actor: Actor, broadcast_id: int) -> HttpResponseBase:
    """Save the draft; with "send now" or "schedule", start it too."""
    broadcast = access.access_broadcast(actor, broadcast_id)
    intent = request.POST.get("intent", "save")
    try:
        broadcast = _save_form(request, actor, broadcast)
        if intent == "send":
            actions.do_start_broadcast(actor=actor, broadcast=broadcast)
            messages.success(request, "Sending started.")
        elif intent == "schedule":
            when = _parse_local(request.POST.get("scheduled_at", ""))
            broadcast = actions.do_start_broadcast(
                actor=actor, broadcast=broadcast, scheduled_at=when
            )
            messages.success(request, "Broadcast scheduled.")
        else:
            messages.success(request, "Draft saved.")
    except ActionError as exc:
        # The instance holds what was typed (the update refused it before saving).
        return _editor(request, actor, broadcast, error=exc.message, field=exc.field or "")
    return _detail(actor, broadcast)


@workspace_view(Cap.CAMPAIGNS_READ)
@require_GET
def broadcasts_mapping(request: HttpRequest, actor: Actor, broadcast_id: int) -> HttpResponse:
    """The variable rows of the template chosen in the editor (htmx)."""
    broadcast = access.access_broadcast(actor, broadcast_id)
    template_id = _int(request.GET.get("template_id"))
    template = (
        MessageTemplate.objects.filter(
            workspace=actor.workspace, pk=template_id, channel_id=broadcast.channel_id
        ).first()
        if template_id
        else None
    )
    kind = request.GET.get("audience_kind", broadcast.audience_kind)
    return render(
        request,
        "broadcasts/_mapping.html",
        {
            "template": template,
            "mapping": broadcast.mapping
            if template and template.pk == broadcast.template_id
            else {},
            "attributes": _attributes(actor),
            "columns": broadcast.csv_header if kind == AudienceKind.CSV else [],
        },
    )


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_POST
def broadcasts_delete(request: HttpRequest, actor: Actor, broadcast_id: int) -> HttpResponseBase:
    broadcast = access.access_broadcast(actor, broadcast_id)
    if flash_action(
        request,
        lambda: actions.do_delete_broadcast(actor=actor, broadcast=broadcast) or True,
        "Draft deleted.",
    ):
        return redirect("broadcasts_index", slug=actor.workspace.slug)
    return _detail(actor, broadcast)


def _steer(
    request: HttpRequest, actor: Actor, broadcast_id: int, fn: Any, success: str
) -> HttpResponseBase:
    broadcast = access.access_broadcast(actor, broadcast_id)
    flash_action(request, lambda: fn(actor=actor, broadcast=broadcast), success)
    return _detail(actor, broadcast)


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_POST
def broadcasts_pause(request: HttpRequest, actor: Actor, broadcast_id: int) -> HttpResponseBase:
    return _steer(
        request,
        actor,
        broadcast_id,
        actions.do_pause_broadcast,
        "Paused: queued recipients wait until you resume.",
    )


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_POST
def broadcasts_resume(request: HttpRequest, actor: Actor, broadcast_id: int) -> HttpResponseBase:
    return _steer(request, actor, broadcast_id, actions.do_resume_broadcast, "Resumed.")


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_POST
def broadcasts_cancel(request: HttpRequest, actor: Actor, broadcast_id: int) -> HttpResponseBase:
    return _steer(
        request,
        actor,
        broadcast_id,
        actions.do_cancel_broadcast,
        "Cancelled: nobody still queued will get it.",
    )


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_POST
def broadcasts_retry(request: HttpRequest, actor: Actor, broadcast_id: int) -> HttpResponseBase:
    broadcast = access.access_broadcast(actor, broadcast_id)
    try:
        count = actions.do_retry_failed(actor=actor, broadcast=broadcast)
    except ActionError as exc:
        messages.error(request, exc.message)
    else:
        if count:
            messages.success(
                request, f"{count:,} failed recipient{'s' if count != 1 else ''} queued again."
            )
        else:
            messages.info(request, "No failed recipients to retry.")
    return _detail(actor, broadcast)


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_POST
def broadcasts_reschedule(
    request: HttpRequest, actor: Actor, broadcast_id: int
) -> HttpResponseBase:
    broadcast = access.access_broadcast(actor, broadcast_id)
    now = request.POST.get("intent") == "now"

    def move() -> Broadcast:
        when = None if now else _parse_local(request.POST.get("scheduled_at", ""))
        return actions.do_reschedule_broadcast(actor=actor, broadcast=broadcast, scheduled_at=when)

    flash_action(request, move, "Sending started." if now else "Rescheduled.")
    return _detail(actor, broadcast)


@workspace_view(Cap.CAMPAIGNS_READ)
@require_GET
def broadcasts_progress(request: HttpRequest, actor: Actor, broadcast_id: int) -> HttpResponse:
    """The progress card, polled every 2 s while the broadcast is live. When
    its status changed since the page was drawn, the whole page reloads (its
    buttons depend on the status)."""
    broadcast = access.access_broadcast(actor, broadcast_id)
    shown = request.GET.get("status")
    if shown and shown != broadcast.shown_status:
        response = HttpResponse("")
        response["HX-Refresh"] = "true"
        return response
    with timezone.override(actions.workspace_tz(actor.workspace)):
        return render(request, "broadcasts/_progress.html", _progress_context(actor, broadcast))


@workspace_view(Cap.CAMPAIGNS_READ)
@require_GET
def broadcasts_recipients(request: HttpRequest, actor: Actor, broadcast_id: int) -> HttpResponse:
    """The recipient table: filtered by state, one keyset page at a time (htmx)."""
    broadcast = access.access_broadcast(actor, broadcast_id)
    with timezone.override(actions.workspace_tz(actor.workspace)):
        return render(
            request,
            "broadcasts/_recipients.html",
            _recipients_context(request, actor, broadcast),
        )


@workspace_view(Cap.CAMPAIGNS_READ)
@require_GET
def broadcasts_export(request: HttpRequest, actor: Actor, broadcast_id: int) -> HttpResponseBase:
    broadcast = access.access_broadcast(actor, broadcast_id)
    state = request.GET.get("state") or None
    if state not in access.RECIPIENT_FILTERS:
        state = None
    return exports.csv_response(actor, broadcast, state=state)  # type: ignore[no-any-return]
