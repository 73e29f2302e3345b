"""Execution log pages: the filtered list with its chart, one run in full (or
as the fragment a row expands into), and the retention setting. Thin."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from parley.core.errors import ActionError
from parley.core.pagination import paginate_recent
from parley.executions import access, actions, chart
from parley.executions.forms import FilterForm, RetentionForm
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.tenancy.web import apply_action, workspace_view

PAGE = 50


def _zone(actor: Actor) -> ZoneInfo:
    try:
        return ZoneInfo(actor.workspace.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _index_context(request: HttpRequest, actor: Actor, **extra: Any) -> dict[str, Any]:
    zone = _zone(actor)
    form = FilterForm(request.GET or None, sources=access.recent_sources(actor))
    if form.is_bound:
        form.is_valid()
    filters = form.filters(zone)
    cursor = request.GET.get("cursor") or None
    try:
        page = paginate_recent(
            access.execution_list(actor, filters), field="started_at", cursor=cursor, limit=PAGE
        )
    except ActionError as exc:
        # A stale or hand-edited cursor (or a range the form let through):
        # say so and show the first page rather than fail.
        messages.error(request, exc.message)
        cursor = None
        page = paginate_recent(
            access.execution_list(actor, access.Filters()),
            field="started_at",
            cursor=None,
            limit=PAGE,
        )
    query = request.GET.copy()
    query.pop("cursor", None)
    now = timezone.now()
    return {
        "form": form,
        "executions": page["items"],
        "next_cursor": page["next_cursor"],
        "paged": bool(cursor),
        "filter_query": query.urlencode(),
        "chart": chart.build(access.hourly_chart(actor, now=now), zone),
        "failures_24h": access.failures_since(actor, now - timedelta(hours=24)),
        "can_manage": actor.can(Cap.WORKSPACE_MANAGE),
        "retention_days": access.retention_days(actor.workspace.pk),
        "zone": zone,
        **extra,
    }


@workspace_view(Cap.EXECUTIONS_READ)
@require_GET
def executions_index(request: HttpRequest, actor: Actor) -> HttpResponse:
    context = _index_context(request, actor)
    context.setdefault("retention_form", RetentionForm(initial={"days": context["retention_days"]}))
    return render(request, "executions/index.html", context)


@workspace_view(Cap.WORKSPACE_MANAGE)
@require_POST
def executions_settings(request: HttpRequest, actor: Actor) -> HttpResponseBase:
    form = RetentionForm(request.POST)
    if form.is_valid() and apply_action(
        form, lambda: actions.do_set_retention(actor=actor, days=form.cleaned_data["days"])
    ):
        messages.success(request, f"Execution logs are kept {form.cleaned_data['days']} days.")
        return redirect(reverse("executions_index", args=[actor.workspace.slug]))
    context = _index_context(request, actor, retention_form=form)
    return render(request, "executions/index.html", context, status=400)


@workspace_view(Cap.EXECUTIONS_READ)
@require_GET
def executions_detail(request: HttpRequest, actor: Actor, execution_id: int) -> HttpResponse:
    execution = access.access_execution(actor, execution_id)
    context = {
        "execution": execution,
        "steps": access.steps_of(actor, execution),
        "zone": _zone(actor),
    }
    # A row of the list expands into the details alone (htmx); the alert
    # link and a page without script get the whole page.
    template = (
        "executions/_details.html"
        if request.headers.get("HX-Request")
        else "executions/detail.html"
    )
    return render(request, template, context)
