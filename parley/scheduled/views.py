"""Scheduled message pages: the list, schedule, edit, cancel, and the two
small fragments the form loads (contact search, template variables). Thin.
Times are typed and shown in the workspace's timezone."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from parley.core.errors import ActionError
from parley.crm.access import access_contact, contact_list
from parley.crm.models import AttributeDefinition, Contact
from parley.msgtemplates.render import mapping_from_form
from parley.scheduled import access, actions, display
from parley.scheduled import when as when_
from parley.scheduled.forms import ScheduleForm
from parley.scheduled.models import Kind, ScheduledMessage
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.tenancy.web import flash_action, workspace_view
from parley.whatsapp.models import MessageTemplate

PAGE = 200
SEARCH_RESULTS = 8
TABS = [
    ("upcoming", "Upcoming"),
    ("sent", "Sent"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
    ("all", "All"),
]


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _label(actor: Actor, at: datetime) -> str:
    return when_.label(at, when_.zone(actor.workspace.timezone))


def _index_url(actor: Actor) -> str:
    return reverse("scheduled_index", args=[actor.workspace.slug])


@workspace_view(Cap.CONVERSATIONS_READ)
@require_GET
def scheduled_index(request: HttpRequest, actor: Actor) -> HttpResponse:
    status = request.GET.get("status", "upcoming")
    status = status if status in dict(TABS) else "upcoming"
    contact_id = request.GET.get("contact_id", "")
    contact = access_contact(actor, int(contact_id)) if contact_id.isdigit() else None
    base = access.scheduled_list(actor, contact_id=contact.pk if contact is not None else None)
    counts = base.aggregate(
        all=Count("id"),
        **{
            key: Count("id", filter=Q(item__state__in=states))
            for key, states in access.FILTERS.items()
        },
    )
    qs = access.scheduled_list(
        actor,
        status=None if status == "all" else status,
        contact_id=contact.pk if contact is not None else None,
    )
    items = list(access.ordered_for_page(qs, status).select_related(*access.RELATED)[:PAGE])
    return render(
        request,
        "scheduled/index.html",
        {
            "rows": display.rows(items, actor.workspace.timezone),
            "status": status,
            "tabs": [(key, label, counts.get(key) or 0) for key, label in TABS],
            "contact": contact,
            "can_work": actor.can(Cap.CONVERSATIONS_WORK),
            "zone": when_.zone_summary(actor.workspace.timezone),
            "here": request.get_full_path(),
            "more": len(items) >= PAGE,
        },
    )


# -- the form ------------------------------------------------------------------------------


def _templates(actor: Actor) -> list[MessageTemplate]:
    return actions.approved_templates(actor)


def _template_choice(actor: Actor, raw: Any) -> MessageTemplate | None:
    raw = str(raw or "")
    if not raw.isdigit():
        return None
    return MessageTemplate.objects.filter(workspace=actor.workspace, pk=int(raw)).first()


def _form(actor: Actor, data: Any = None, **kwargs: Any) -> ScheduleForm:
    return ScheduleForm(
        data,
        channels=access.active_channels(actor),
        templates=_templates(actor),
        zone_help=when_.zone_summary(actor.workspace.timezone),
        **kwargs,
    )


def _what(actor: Actor, form: ScheduleForm, post: Any) -> actions.What:
    data = form.cleaned_data
    kind = data.get("kind") or Kind.TEXT
    if kind == Kind.TEMPLATE:
        template = (
            actions.template_by_id(actor, int(data["template_id"]), field="template_id")
            if data.get("template_id")
            else None
        )
        return actions.What(
            kind=kind,
            template=template,
            mapping=mapping_from_form(template, post, "var") if template is not None else {},
        )
    fallback = (
        actions.template_by_id(
            actor, int(data["fallback_template_id"]), field="fallback_template_id"
        )
        if data.get("fallback_template_id")
        else None
    )
    return actions.What(
        kind=kind,
        text=data.get("text") or "",
        fallback_template=fallback,
        fallback_mapping=mapping_from_form(fallback, post, "fb") if fallback is not None else {},
    )


def _form_context(
    request: HttpRequest,
    actor: Actor,
    form: ScheduleForm,
    *,
    contact: Contact | None,
    scheduled: ScheduledMessage | None = None,
) -> dict[str, Any]:
    """What the form page needs beyond the form: the picked contact, search
    results, and the picked templates with their mappings."""
    source: Any = request.POST if request.method == "POST" else None
    initial = form.initial
    template = _template_choice(
        actor, source.get("template_id") if source is not None else initial.get("template_id")
    )
    fallback = _template_choice(
        actor,
        source.get("fallback_template_id")
        if source is not None
        else initial.get("fallback_template_id"),
    )
    mapping: dict[str, Any] = {}
    fallback_mapping: dict[str, Any] = {}
    if source is not None:
        if template is not None:
            mapping = mapping_from_form(template, source, "var")
        if fallback is not None:
            fallback_mapping = mapping_from_form(fallback, source, "fb")
    elif scheduled is not None:
        mapping = dict(scheduled.content.mapping or {})
        fallback_mapping = dict(scheduled.content.fallback_mapping or {})
    q = (source.get("contact_q") if source is not None else request.GET.get("contact_q")) or ""
    results = list(contact_list(actor, q=q).order_by("-id")[:SEARCH_RESULTS]) if q.strip() else []
    attributes = list(
        AttributeDefinition.objects.filter(workspace=actor.workspace).order_by("label")
    )
    return {
        "form": form,
        "contact": contact,
        "contact_q": q,
        "results": results,
        "template": template,
        "mapping": mapping,
        "fallback": fallback,
        "fallback_mapping": fallback_mapping,
        "attributes": attributes,
        "zone": when_.zone_summary(actor.workspace.timezone),
        "next": _next(request, ""),
        "scheduled": scheduled,
        "kind": ((source.get("kind") if source is not None else initial.get("kind")) or Kind.TEXT),
    }


def _contact_of(actor: Actor, raw: Any) -> Contact | None:
    raw = str(raw or "")
    return access_contact(actor, int(raw)) if raw.isdigit() else None


def _flash_notes(request: HttpRequest, scheduled: ScheduledMessage) -> None:
    for note in (scheduled.time_note, actions.window_note(scheduled)):
        if note:
            messages.warning(request, note)


@workspace_view(Cap.CONVERSATIONS_WORK)
def scheduled_new(request: HttpRequest, actor: Actor) -> HttpResponseBase:
    """Schedule a message. Also the landing of the contact panel's quick form:
    a refusal there shows this page with the input kept."""
    if request.method == "POST":
        form = _form(actor, request.POST)
        contact = _contact_of(actor, request.POST.get("contact_id"))
        if request.POST.get("op") in ("find", "refresh"):
            # Without JavaScript: search contacts / show a template's variables.
            form.errors.clear()
            return _render_form(request, actor, form, contact)
        if form.is_valid():
            try:
                scheduled = _create(actor, form, request.POST)
            except ActionError as exc:
                field = exc.field if exc.field in form.fields else None
                if exc.field in ("mapping", "fallback_mapping"):
                    field = None
                form.add_error(field, exc.message)
            else:
                messages.success(
                    request,
                    f"Scheduled for {_label(actor, scheduled.send_at)}.",
                )
                _flash_notes(request, scheduled)
                return redirect(_next(request, _index_url(actor)))
        return _render_form(request, actor, form, contact)
    contact = _contact_of(actor, request.GET.get("contact_id"))
    initial: dict[str, Any] = {
        "kind": request.GET.get("kind") or Kind.TEXT,
        "template_id": request.GET.get("template_id", ""),
        "send_at": display.local_input(_default_time(), actor.workspace.timezone),
    }
    if contact is not None:
        initial["contact_id"] = contact.pk
        with contextlib.suppress(ActionError):
            initial["channel_id"] = str(
                access.channel_for(actor, contact, _int(request.GET.get("channel_id"))).pk
            )
    form = _form(actor, initial=initial)
    return _render_form(request, actor, form, contact)


def _int(raw: Any) -> int | None:
    raw = str(raw or "")
    return int(raw) if raw.isdigit() else None


def _default_time() -> datetime:
    """The next full hour at least an hour ahead: a time to adjust, not to keep."""
    at = timezone.now() + timedelta(hours=1)
    return at.replace(minute=0, second=0, microsecond=0)


def _render_form(
    request: HttpRequest,
    actor: Actor,
    form: ScheduleForm,
    contact: Contact | None,
    scheduled: ScheduledMessage | None = None,
) -> HttpResponse:
    return render(
        request,
        "scheduled/form.html",
        _form_context(request, actor, form, contact=contact, scheduled=scheduled),
    )


def _create(actor: Actor, form: ScheduleForm, post: Any) -> ScheduledMessage:
    data = form.cleaned_data
    contact = access_contact(actor, int(data["contact_id"]))
    channel = access.channel_for(actor, contact, _int(data.get("channel_id")))
    return actions.do_schedule_message(
        actor=actor,
        contact=contact,
        channel=channel,
        when=data["send_at"],
        what=_what(actor, form, post),
    )


@workspace_view(Cap.CONVERSATIONS_READ)
def scheduled_edit(request: HttpRequest, actor: Actor, scheduled_id: int) -> HttpResponseBase:
    scheduled = access.access_scheduled(actor, scheduled_id)
    zone_name = actor.workspace.timezone
    # The wall time as it reads in the workspace now (the entered one, unless
    # it was entered with an offset or in the zone the workspace had then).
    shown = (
        scheduled.local_time[:16]
        if scheduled.timezone_name == zone_name
        else display.local_input(scheduled.send_at, zone_name)
    )
    if request.method == "POST":
        actor.require(Cap.CONVERSATIONS_WORK)
        form = _form(actor, request.POST, initial={"channel_id": str(scheduled.channel_id)})
        form.fields["contact_id"].required = False
        form.fields["channel_id"].required = False
        if request.POST.get("op") == "refresh":
            form.errors.clear()
            return _render_edit(request, actor, form, scheduled)
        if form.is_valid():
            try:
                typed = form.cleaned_data["send_at"]
                changes: dict[str, Any] = {"what": _what(actor, form, request.POST)}
                # Unchanged in the box: keep the instant (it may be the second
                # of two 02:30s, which the box cannot tell apart).
                if typed.strftime("%Y-%m-%dT%H:%M") != shown:
                    changes["when"] = typed
                actions.do_update_scheduled(actor=actor, scheduled=scheduled, **changes)
            except ActionError as exc:
                field = exc.field if exc.field in form.fields else None
                if exc.field in ("mapping", "fallback_mapping"):
                    field = None
                form.add_error(field, exc.message)
            else:
                messages.success(
                    request,
                    f"Saved: it goes out {_label(actor, scheduled.send_at)}.",
                )
                _flash_notes(request, scheduled)
                return redirect(_next(request, _index_url(actor)))
        return _render_edit(request, actor, form, scheduled)
    content = scheduled.content
    form = _form(
        actor,
        initial={
            "contact_id": scheduled.contact_id,
            "channel_id": str(scheduled.channel_id),
            "send_at": shown,
            "kind": scheduled.kind,
            "text": content.text,
            "template_id": str(content.template_id or ""),
            "fallback_template_id": str(content.fallback_template_id or ""),
        },
    )
    return _render_edit(request, actor, form, scheduled)


def _render_edit(
    request: HttpRequest, actor: Actor, form: ScheduleForm, scheduled: ScheduledMessage
) -> HttpResponse:
    form.fields["channel_id"].disabled = True
    context = _form_context(request, actor, form, contact=scheduled.contact, scheduled=scheduled)
    context.update(
        {
            "row": display.row(scheduled, when_.zone(actor.workspace.timezone)),
            "can_edit": actor.can(Cap.CONVERSATIONS_WORK) and scheduled.is_open,
            "can_work": actor.can(Cap.CONVERSATIONS_WORK),
            "window_note": actions.window_note(scheduled),
        }
    )
    return render(request, "scheduled/edit.html", context)


@workspace_view(Cap.CONVERSATIONS_WORK)
@require_POST
def scheduled_cancel(request: HttpRequest, actor: Actor, scheduled_id: int) -> HttpResponse:
    scheduled = access.access_scheduled(actor, scheduled_id)
    flash_action(
        request,
        lambda: actions.do_cancel_scheduled(actor=actor, scheduled=scheduled),
        "Cancelled: it will not be sent.",
    )
    return redirect(_next(request, _index_url(actor)))


# -- fragments -----------------------------------------------------------------------------


@workspace_view(Cap.CONVERSATIONS_WORK)
@require_GET
def scheduled_contacts(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The type-ahead's results: contacts to pick, as radio buttons of the form."""
    q = (request.GET.get("contact_q") or request.GET.get("q") or "")[:100]
    results = list(contact_list(actor, q=q).order_by("-id")[:SEARCH_RESULTS]) if q.strip() else []
    return render(request, "scheduled/_contact_results.html", {"results": results, "contact_q": q})


@workspace_view(Cap.CONVERSATIONS_WORK)
@require_GET
def scheduled_mapping(request: HttpRequest, actor: Actor) -> HttpResponse:
    """A template's variable rows, loaded when a template is picked."""
    prefix = "fb" if request.GET.get("prefix") == "fb" else "var"
    raw = request.GET.get("fallback_template_id" if prefix == "fb" else "template_id")
    template = _template_choice(actor, raw)
    if template is None:
        return HttpResponse("")
    return render(
        request,
        "msgtemplates/_mapping_fields.html",
        {
            "template": template,
            "mapping": {},
            "attributes": list(
                AttributeDefinition.objects.filter(workspace=actor.workspace).order_by("label")
            ),
            "columns": [],
            "prefix": prefix,
        },
    )
