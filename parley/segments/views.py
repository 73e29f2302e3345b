"""Segment pages: the list (counts load lazily per row), the editor with its
live count, and the fragments htmx asks for. Thin."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from parley.core.errors import ActionError
from parley.segments import access, actions
from parley.segments.catalog import Catalog, describe
from parley.segments.compiler import contacts_matching, count_matching
from parley.segments.editor import (
    MAX_ROWS,
    Row,
    attach_error,
    definition_from_rows,
    rows_from_definition,
    rows_from_form,
)
from parley.segments.models import Segment
from parley.segments.validation import validate_definition
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.tenancy.web import workspace_view

SAMPLE = 5


@workspace_view(Cap.CONTACTS_READ)
def segments_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    catalog = Catalog.load(actor.workspace.pk)
    segments = list(access.segment_list(actor).select_related("created_by").order_by("name"))
    return render(
        request,
        "segments/list.html",
        {
            "segments": [(s, describe(s.definition, catalog)) for s in segments],
            "can_write": actor.can(Cap.CONTACTS_WRITE),
        },
    )


@workspace_view(Cap.CONTACTS_READ)
def segments_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _editor(request, actor, None)


@workspace_view(Cap.CONTACTS_READ)
def segments_edit(request: HttpRequest, actor: Actor, segment_id: int) -> HttpResponse:
    return _editor(request, actor, access.access_segment(actor, segment_id))


def _editor(request: HttpRequest, actor: Actor, segment: Segment | None) -> HttpResponse:
    catalog = Catalog.load(actor.workspace.pk)
    errors: dict[str, str] = {}
    if request.method == "POST":
        actor.require(Cap.CONTACTS_WRITE)
        name = request.POST.get("name", "")
        description = request.POST.get("description", "")
        match = request.POST.get("match", "all")
        rows = rows_from_form(request.POST)
        definition = definition_from_rows(match, rows)
        try:
            if segment is None:
                segment = actions.do_create_segment(
                    actor=actor, name=name, description=description, definition=definition
                )
                messages.success(request, f"Segment {segment.name!r} created.")
            else:
                actions.do_update_segment(
                    actor=actor,
                    segment=segment,
                    name=name,
                    description=description,
                    definition=definition,
                )
                messages.success(request, f"Segment {segment.name!r} saved.")
            return redirect("segments_list", actor.workspace.slug)
        except ActionError as exc:
            if not attach_error(rows, exc):
                errors[exc.field if exc.field in ("name", "description") else "form"] = exc.message
    elif segment is not None:
        name, description = segment.name, segment.description
        match = segment.definition.get("match", "all")
        rows = rows_from_definition(segment.definition)
    else:
        name, description, match, rows = "", "", "all", []
    return render(
        request,
        "segments/editor.html",
        {
            "segment": segment,
            "name": name,
            "description": description,
            "match": match,
            "rows": [r.context(catalog) for r in rows],
            "errors": errors,
            "can_write": actor.can(Cap.CONTACTS_WRITE),
            "max_rows": MAX_ROWS,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_GET
@workspace_view(Cap.CONTACTS_READ)
def segments_condition(request: HttpRequest, actor: Actor) -> HttpResponse:
    """One condition row: a new one (add=1), or one re-rendered after its
    field or operator changed, keeping what still applies."""
    catalog = Catalog.load(actor.workspace.pk)
    rows = rows_from_form(request.GET)
    if request.GET.get("add"):
        if len(rows) >= MAX_ROWS:
            return HttpResponse(status=204)
        row = Row(index=max((r.index for r in rows), default=-1) + 1, choice="tags")
        autofocus = True
    else:
        if not rows:
            raise Http404("No condition row in the request.")
        row, autofocus = rows[0], False
    return render(
        request,
        "segments/_condition.html",
        {
            **row.context(catalog),
            "autofocus": autofocus,
            "can_write": actor.can(Cap.CONTACTS_WRITE),
        },
    )


@require_POST
@workspace_view(Cap.CONTACTS_READ)
def segments_preview(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The live count and a few members of the definition being edited."""
    rows = rows_from_form(request.POST)
    definition = definition_from_rows(request.POST.get("match", "all"), rows)
    context: dict[str, Any] = {"rows": rows}
    try:
        checked = validate_definition(actor.workspace.pk, definition)
    except ActionError as exc:
        attach_error(rows, exc)
        context["error"] = exc.message
    else:
        matching = contacts_matching(actor.workspace.pk, checked)
        context["count"] = matching.count()
        context["sample"] = list(matching.order_by("-id")[:SAMPLE]) if context["count"] else []
        context["count_display"] = f"{context['count']:,}"
        context["more_display"] = f"{context['count'] - len(context['sample']):,}"
    return render(request, "segments/_preview.html", context)


@require_GET
@workspace_view(Cap.CONTACTS_READ)
def segments_count(request: HttpRequest, actor: Actor, segment_id: int) -> HttpResponse:
    segment = access.access_segment(actor, segment_id)
    try:
        count = count_matching(actor.workspace.pk, segment.definition)
    except ActionError:
        return HttpResponse('<span class="muted">needs fixing</span>')
    return HttpResponse(f"{count:,}")


@require_POST
@workspace_view(Cap.CONTACTS_WRITE)
def segments_delete(request: HttpRequest, actor: Actor, segment_id: int) -> HttpResponse:
    segment = access.access_segment(actor, segment_id)
    actions.do_delete_segment(actor=actor, segment=segment)
    messages.success(request, f"Segment {segment.name!r} deleted.")
    return redirect(reverse("segments_list", args=[actor.workspace.slug]))
