"""Notes pages: the list across contacts, and the add/edit/pin/delete
actions the contact panel calls through htmx (plain POSTs work too). Thin."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from parley.core.errors import ActionError
from parley.crm.access import access_contact
from parley.crm.models import Contact
from parley.notes import access, actions
from parley.notes.mentions import workspace_members
from parley.notes.models import BODY_MAX, ContactNote
from parley.notes.paging import page_notes
from parley.notes.panels import panel_context
from parley.tenancy.actor import Actor
from parley.tenancy.models import Membership
from parley.tenancy.roles import Cap
from parley.tenancy.web import workspace_view

PAGE = 50
# How a panel asks for its re-render: "1" on the contact page, "compact" in
# the inbox's side panel.
PANEL_MODES = ("1", "compact")


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and len(raw) < 19 else None


@require_GET
@workspace_view(Cap.CONTACTS_READ)
def note_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    get = request.GET
    contact = None
    contact_id = _int(get.get("contact"))
    if contact_id is not None:
        contact = access_contact(actor, contact_id)
    mentions_me = get.get("mentions") == "me" and actor.user is not None
    filters = access.NoteFilter(
        author_id=_int(get.get("author")),
        mentions_user_id=actor.user_id if mentions_me else None,
        pinned=True if get.get("pinned") == "1" else None,
        contact_id=contact_id,
        q=get.get("q", "")[:200],
    )
    try:
        page = page_notes(
            access.note_list(actor, filters),
            cursor=get.get("cursor") or None,
            limit=PAGE,
            pinned_first=contact is not None,
        )
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("notes_list", args=[actor.workspace.slug]))
    notes: list[ContactNote] = page["items"]
    for note in notes:
        note.changeable = actions.can_change(actor, note)  # type: ignore[attr-defined]
    params = get.copy()
    params.pop("cursor", None)
    return render(
        request,
        "notes/notes.html",
        {
            "notes": notes,
            "next_cursor": page["next_cursor"],
            "first_page": not get.get("cursor"),
            "filters": filters,
            "mentions_me": mentions_me,
            "contact": contact,
            "authors": Membership.objects.filter(workspace=actor.workspace)
            .select_related("user")
            .order_by("user__name", "user__email"),
            "query_string": params.urlencode(),
            "notes_can_write": actor.can(Cap.CONTACTS_WRITE),
            "body_max": BODY_MAX,
        },
    )


@require_GET
@workspace_view(Cap.CONTACTS_READ)
def mentionable(request: HttpRequest, actor: Actor) -> JsonResponse:
    """Members for the @ autocomplete (fetched once per page)."""
    members = [{"handle": m.handle, "name": m.name} for m in workspace_members(actor.workspace.pk)]
    return JsonResponse({"members": members})


def _safe_next(request: HttpRequest, target: str) -> str:
    """``target`` if it stays on this site, else "" (no open redirect, no
    javascript: link)."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _back(request: HttpRequest, actor: Actor, contact_id: int) -> HttpResponseBase:
    target = _safe_next(request, request.POST.get("next", ""))
    if target:
        return redirect(target)
    return redirect(reverse("notes_list", args=[actor.workspace.slug]) + f"?contact={contact_id}")


def _panel(request: HttpRequest, actor: Actor, contact: Contact, **extra: Any) -> HttpResponse:
    context = {
        "compact": request.POST.get("panel") == "compact",
        **panel_context(actor, contact),
        "actor": actor,
        "contact": contact,
        "workspace": actor.workspace,
        "body_max": BODY_MAX,
        **extra,
    }
    return HttpResponse(render_to_string("notes/_panel.html", context, request=request))


def _item(
    request: HttpRequest, actor: Actor, note: ContactNote, in_panel: bool, compact: bool = False
) -> HttpResponse:
    note.changeable = actions.can_change(actor, note)  # type: ignore[attr-defined]
    context = {
        "note": note,
        "in_panel": in_panel,
        "compact": compact,
        "show_contact": not in_panel,
    }
    return render(request, "notes/_note.html", context)


@require_POST
@workspace_view(Cap.CONTACTS_WRITE)
def note_add(request: HttpRequest, actor: Actor, contact_id: int) -> HttpResponseBase:
    contact = access_contact(actor, contact_id)
    body = request.POST.get("body", "")
    try:
        actions.do_create_note(
            actor=actor, contact=contact, body=body, pinned=request.POST.get("pinned") == "1"
        )
    except ActionError as exc:
        if request.htmx:  # type: ignore[attr-defined]
            return _panel(request, actor, contact, note_error=exc.message, note_draft=body)
        messages.error(request, exc.message)
        return _back(request, actor, contact.pk)
    if request.htmx:  # type: ignore[attr-defined]
        return _panel(request, actor, contact)
    messages.success(request, "Note added.")
    return _back(request, actor, contact.pk)


@require_http_methods(["GET", "POST"])
@workspace_view(Cap.CONTACTS_WRITE)
def note_edit(request: HttpRequest, actor: Actor, note_id: int) -> HttpResponseBase:
    note = access.access_note(actor, note_id)
    mode = request.POST.get("panel") or request.GET.get("panel")
    in_panel, compact = mode in PANEL_MODES, mode == "compact"
    actions.require_change(actor, note, "edit")  # before showing a form at all
    if request.method == "GET" and request.GET.get("cancel") == "1":
        return _item(request, actor, note, in_panel, compact)
    context: dict[str, Any] = {
        "note": note,
        "in_panel": in_panel,
        "compact": compact,
        "draft": note.body,
        "body_max": BODY_MAX,
        "next": _safe_next(request, request.GET.get("next") or request.POST.get("next", "")),
    }
    if request.method == "POST":
        body = request.POST.get("body", "")
        try:
            actions.do_edit_note(actor=actor, note=note, body=body)
        except ActionError as exc:
            context.update(error=exc.message, draft=body)
        else:
            if request.htmx:  # type: ignore[attr-defined]
                return _item(request, actor, note, in_panel, compact)
            messages.success(request, "Note saved.")
            return _back(request, actor, note.contact_id)
    template = "notes/_edit.html" if request.htmx else "notes/edit.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@require_POST
@workspace_view(Cap.CONTACTS_WRITE)
def note_pin(request: HttpRequest, actor: Actor, note_id: int) -> HttpResponseBase:
    note = access.access_note(actor, note_id)
    pinned = request.POST.get("pinned") == "1"
    actions.do_set_pinned(actor=actor, note=note, pinned=pinned)
    if request.htmx:  # type: ignore[attr-defined]
        if request.POST.get("panel") in PANEL_MODES:
            return _panel(request, actor, note.contact)
        return _item(request, actor, note, in_panel=False)
    messages.success(request, "Note pinned." if pinned else "Note unpinned.")
    return _back(request, actor, note.contact_id)


@require_POST
@workspace_view(Cap.CONTACTS_WRITE)
def note_delete(request: HttpRequest, actor: Actor, note_id: int) -> HttpResponseBase:
    note = access.access_note(actor, note_id)
    contact = note.contact
    actions.do_delete_note(actor=actor, note=note)
    if request.htmx:  # type: ignore[attr-defined]
        if request.POST.get("panel") in PANEL_MODES:
            return _panel(request, actor, contact)
        return HttpResponse("")
    messages.success(request, "Note deleted.")
    return _back(request, actor, contact.pk)
