"""Template pages: the list with statuses and "sync now", the editor with a live
WhatsApp preview, the detail page (preview with sample values, status history,
usage log). Thin."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from parley.accounts.models import User
from parley.core.errors import ActionError
from parley.msgtemplates import access, actions, forms, preview, usage
from parley.msgtemplates.render import variables
from parley.msgtemplates.spec import TemplateSpec, from_components, validate
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.tenancy.web import flash_action, workspace_view
from parley.whatsapp.models import MessageTemplate

PAGE = 500
STATUS_FILTERS = [
    ("", "All"),
    ("approved", "Approved"),
    ("pending", "Pending"),
    ("rejected", "Rejected"),
    ("paused", "Paused"),
    ("disabled", "Disabled"),
]


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@workspace_view(Cap.CAMPAIGNS_READ)
def msgtemplates_index(request: HttpRequest, actor: Actor) -> HttpResponse:
    status = (request.GET.get("status") or "").lower()
    status = status if status in dict(STATUS_FILTERS) else ""
    channel_id = _int(request.GET.get("channel"))
    templates = list(
        access.template_list(actor, status=status or None, channel_id=channel_id).order_by(
            "name", "language", "id"
        )[:PAGE]
    )
    totals = usage.totals(actor.workspace.pk, [t.pk for t in templates])
    return render(
        request,
        "msgtemplates/index.html",
        {
            "rows": [(t, totals.get(t.pk)) for t in templates],
            "channels": access.channels(actor),
            "status": status,
            "status_filters": STATUS_FILTERS,
            "channel_id": channel_id,
            "can_manage": actor.can(Cap.CAMPAIGNS_MANAGE),
        },
    )


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_POST
def msgtemplates_sync(request: HttpRequest, actor: Actor) -> HttpResponseBase:
    channel_id = _int(request.POST.get("channel_id"))
    channels = (
        [access.access_channel_for_templates(actor, channel_id)]
        if channel_id is not None
        else access.channels(actor)
    )
    flash_action(
        request,
        lambda: actions.do_sync_now(actor=actor, channels=channels),
        "Fetching the templates from Meta: refresh in a few seconds.",
    )
    return redirect("msgtemplates_index", slug=actor.workspace.slug)


def _editor_context(
    actor: Actor,
    spec: TemplateSpec,
    errors: dict[str, str],
    *,
    template: MessageTemplate | None = None,
    channel_id: int | None = None,
    extra_buttons: int = 1,
) -> dict[str, Any]:
    return {
        "spec": spec,
        "template": template,
        "errors": forms.flat_errors(errors),
        "button_rows": forms.button_rows(spec, errors, extra=extra_buttons),
        "example_rows": forms.example_rows(spec, errors),
        "bubble": preview.bubble(spec),
        "channels": access.channels(actor),
        "channel_id": channel_id,
        **forms.choices(),
    }


@workspace_view(Cap.CAMPAIGNS_MANAGE)
def msgtemplates_new(request: HttpRequest, actor: Actor) -> HttpResponseBase:
    if request.method != "POST":
        spec = TemplateSpec(name="", category="MARKETING", language="en_US", body="")
        channels = access.channels(actor)
        first = channels[0].pk if channels else None
        return render(
            request,
            "msgtemplates/editor.html",
            _editor_context(actor, spec, {}, channel_id=first),
        )
    spec = forms.spec_from_post(request.POST)
    channel_id = _int(request.POST.get("channel_id"))
    errors = {} if "add_button" in request.POST else validate(spec.normalized())
    if channel_id is None:
        errors.setdefault("channel_id", "Pick the channel (WhatsApp Business Account).")
    if not errors and "add_button" not in request.POST:
        assert channel_id is not None
        try:
            channel = access.access_channel_for_templates(actor, channel_id)
            template = actions.do_create_template(actor=actor, channel=channel, spec=spec)
        except ActionError as exc:
            errors[exc.field or "form"] = exc.message
        else:
            messages.success(request, f"Template {template.name} submitted: Meta is reviewing it.")
            return redirect(
                "msgtemplates_detail", slug=actor.workspace.slug, template_id=template.pk
            )
    return render(
        request,
        "msgtemplates/editor.html",
        _editor_context(
            actor,
            spec,
            errors,
            channel_id=channel_id,
            extra_buttons=2 if "add_button" in request.POST else 1,
        ),
        status=200 if "add_button" in request.POST else 400,
    )


@workspace_view(Cap.CAMPAIGNS_MANAGE)
def msgtemplates_edit(request: HttpRequest, actor: Actor, template_id: int) -> HttpResponseBase:
    template = access.access_template(actor, template_id)
    if request.method != "POST":
        spec = from_components(
            name=template.name,
            category=template.category,
            language=template.language,
            items=template.components,
        )
        errors: dict[str, str] = {}
        if template.status not in actions.EDITABLE:
            errors["form"] = (
                f"This template is {template.status.lower()}: Meta lets you edit approved, "
                "rejected or paused templates only."
            )
        return render(
            request,
            "msgtemplates/editor.html",
            _editor_context(actor, spec, errors, template=template),
        )
    spec = forms.spec_from_post(request.POST, name=template.name, language=template.language)
    adding = "add_button" in request.POST
    errors = {} if adding else validate(spec.normalized())
    if not errors and not adding:
        try:
            actions.do_edit_template(actor=actor, template=template, spec=spec)
        except ActionError as exc:
            errors[exc.field or "form"] = exc.message
        else:
            messages.success(request, "Changes submitted: Meta is reviewing the template again.")
            return redirect(
                "msgtemplates_detail", slug=actor.workspace.slug, template_id=template.pk
            )
    return render(
        request,
        "msgtemplates/editor.html",
        _editor_context(actor, spec, errors, template=template, extra_buttons=2 if adding else 1),
        status=200 if adding else 400,
    )


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_POST
def msgtemplates_preview(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The editor's live preview (htmx): the bubble, and the example inputs when
    the set of variables changed (swapped out of band, so typing in an example
    never loses focus)."""
    spec = forms.spec_from_post(request.POST).normalized()
    rows = forms.example_rows(spec, {})
    shown = str(request.POST.get("example_keys") or "")
    return render(
        request,
        "msgtemplates/_editor_preview.html",
        {
            "bubble": preview.bubble(spec),
            "example_rows": rows,
            "examples_changed": shown != ",".join(r.key for r in rows),
        },
    )


def _usage_rows(actor: Actor, template: MessageTemplate) -> list[dict[str, Any]]:
    rows = usage.usage_of(actor.workspace.pk, template.pk)
    agent_ids = [r.source_id for r in rows if r.source == "agent"]
    names = {u.pk: u.display_name for u in User.objects.filter(pk__in=agent_ids)}
    return [
        {
            "source": usage.SOURCE_LABELS.get(r.source, r.source),
            "kind": r.source,
            "source_id": r.source_id,
            "who": names.get(r.source_id, "") if r.source == "agent" else "",
            "count": r.count,
            "last_used_at": r.last_used_at,
        }
        for r in rows
    ]


def _history(template: MessageTemplate) -> list[dict[str, Any]]:
    out = []
    for entry in reversed(template.status_history or []):
        if not isinstance(entry, dict):
            continue
        try:
            at: datetime | None = datetime.fromisoformat(str(entry.get("at")))
        except ValueError:
            at = None
        out.append({**entry, "at": at})
    return out


@workspace_view(Cap.CAMPAIGNS_READ)
def msgtemplates_detail(request: HttpRequest, actor: Actor, template_id: int) -> HttpResponse:
    template = access.access_template(actor, template_id)
    spec = from_components(
        name=template.name,
        category=template.category,
        language=template.language,
        items=template.components,
    )
    keys = [v.key for v in variables(template)]
    samples = preview.samples_from(request.GET, keys)
    bubble = preview.bubble(spec, samples)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "msgtemplates/_bubble.html", {"bubble": bubble})
    examples = {**spec.examples, **{f"button:{i}": b.example for i, b in enumerate(spec.buttons)}}
    sample_rows = [
        {
            "key": v.key,
            "label": v.label,
            "value": samples.get(v.key, ""),
            "example": examples.get(v.key) or v.example,
        }
        for v in variables(template)
    ]
    return render(
        request,
        "msgtemplates/detail.html",
        {
            "template": template,
            "spec": spec,
            "bubble": bubble,
            "sample_rows": sample_rows,
            "history": _history(template),
            "usage_rows": _usage_rows(actor, template),
            "can_manage": actor.can(Cap.CAMPAIGNS_MANAGE),
            "editable": template.status in actions.EDITABLE,
        },
    )


@workspace_view(Cap.CAMPAIGNS_MANAGE)
@require_POST
def msgtemplates_delete(request: HttpRequest, actor: Actor, template_id: int) -> HttpResponseBase:
    template = access.access_template(actor, template_id)
    name = template.name
    if flash_action(
        request,
        lambda: actions.do_delete_template(actor=actor, template=template) or True,
        f"Template {name} deleted.",
    ):
        return redirect("msgtemplates_index", slug=actor.workspace.slug)
    return redirect("msgtemplates_detail", slug=actor.workspace.slug, template_id=template_id)
