"""The search page. Thin."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from parley.core.errors import ActionError
from parley.search import access, actions
from parley.search.engine import KINDS, SINCE_CHOICES, Filters, search
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.tenancy.web import flash_action, workspace_view


def _filters(data: dict[str, str]) -> Filters:
    since = data.get("since_days", "")
    return Filters(
        kind=data.get("kind", "all") or "all",
        since_days=int(since) if since.isdigit() else None,
        direction=data.get("direction", ""),
    )


@workspace_view(Cap.CONTACTS_READ)
def search_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    if request.method == "POST":
        return _save(request, actor)
    q = request.GET.get("q", "")
    filters = _filters(request.GET.dict())
    groups: dict[str, object] = {}
    error = ""
    if q.strip():
        try:
            groups = dict(search(actor, q, filters, limit=5 if filters.kind == "all" else 50))
        except ActionError as exc:
            error = exc.message
    context = {
        "q": q,
        "filters": filters,
        "groups": groups,
        "error": error,
        "kinds": KINDS,
        "since_choices": SINCE_CHOICES,
        "saved": access.saved_searches(actor),
        "found_any": any(groups.values()),
    }
    template = "search/_results.html" if request.htmx else "search/search.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def _save(request: HttpRequest, actor: Actor) -> HttpResponse:
    data = request.POST.dict()
    filters = _filters(data)
    flash_action(
        request,
        lambda: actions.do_save_search(
            actor=actor, name=data.get("name", ""), q=data.get("q", ""), filters=filters
        ),
        "Search saved.",
    )
    query = {k: v for k, v in data.items() if k in ("q", "kind", "since_days", "direction") and v}
    return redirect(reverse("search", args=[actor.workspace.slug]) + "?" + urlencode(query))


@workspace_view(Cap.CONTACTS_READ)
def saved_delete(request: HttpRequest, actor: Actor, saved_search_id: int) -> HttpResponse:
    saved = access.access_saved_search(actor, saved_search_id)
    if request.method == "POST":
        flash_action(
            request,
            lambda: actions.do_delete_saved_search(actor=actor, saved=saved),
            "Saved search deleted.",
        )
    return redirect("search", actor.workspace.slug)
