"""One contact's page: details, attributes, tags, consent, merge, timeline,
and the panels other apps contribute (notes, tasks, deals). Thin."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse

from parley.core.errors import ActionError
from parley.crm import access, actions, panels
from parley.crm.merge import do_merge_contacts
from parley.crm.models import AttributeDefinition, Consent, Contact, Tag
from parley.crm.timeline import timeline
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.tenancy.web import flash_action, workspace_view

TIMELINE_PAGE = 40


@workspace_view(Cap.CONTACTS_READ)
def contact_detail(request: HttpRequest, actor: Actor, contact_id: int) -> HttpResponse:
    contact = access.access_contact(actor, contact_id)
    if request.method == "POST":
        actor.require(Cap.CONTACTS_WRITE)
        return _post(request, actor, contact)
    definitions = list(
        AttributeDefinition.objects.filter(workspace=actor.workspace).order_by("label")
    )
    context: dict[str, Any] = {
        "contact": contact,
        "contact_tags": [ct.tag for ct in contact.contact_tags.select_related("tag")],
        "tags": Tag.objects.filter(workspace=actor.workspace).order_by("name"),
        "attributes": [
            {"definition": d, "value": contact.attributes.get(d.key)} for d in definitions
        ],
        "consents": Consent.choices,
        "can_write": actor.can(Cap.CONTACTS_WRITE),
        "can_manage": actor.can(Cap.WORKSPACE_MANAGE),
        "entries": timeline(
            workspace_id=actor.workspace.pk, contact_id=contact.pk, limit=TIMELINE_PAGE
        ),
        "timeline_page": TIMELINE_PAGE,
        "conversations": contact.conversations.order_by("-last_message_at").values(
            "id", "status", "last_message_at"
        )[:5],
        "merge_q": request.GET.get("merge_q", "")[:100],
        "merge_candidates": _merge_candidates(actor, contact, request.GET.get("merge_q", "")),
        # Rendered here: each panel has its own context from the app that owns it.
        "panels_html": [
            render_to_string(
                p.template,
                {**p.context(actor, contact), "actor": actor, "contact": contact},
                request=request,
            )
            for p in panels.panels()
        ],
        "actor": actor,
    }
    return render(request, "crm/contact_detail.html", context)


@workspace_view(Cap.CONTACTS_READ)
def contact_timeline(request: HttpRequest, actor: Actor, contact_id: int) -> HttpResponse:
    """Older timeline entries, appended by htmx ("Show older")."""
    contact = access.access_contact(actor, contact_id)
    try:
        before = datetime.fromisoformat(request.GET.get("before", ""))
    except ValueError:
        return HttpResponse("before must be an ISO date-time.", status=400)
    entries = timeline(
        workspace_id=actor.workspace.pk, contact_id=contact.pk, before=before, limit=TIMELINE_PAGE
    )
    return render(
        request,
        "crm/_timeline_entries.html",
        {"entries": entries, "contact": contact, "timeline_page": TIMELINE_PAGE},
    )


def _merge_candidates(actor: Actor, contact: Contact, q: str) -> list[Contact]:
    """Contacts that may be this one: a search when the user typed one, else
    the same email or the same name."""
    q = q.strip()
    if q:
        found = access.contact_list(actor, q=q)
    else:
        same = Q()
        if contact.email:
            same |= Q(email__iexact=contact.email)
        if contact.name:
            same |= Q(name__iexact=contact.name)
        if not same:
            return []
        found = Contact.objects.filter(same, workspace=actor.workspace)
    return list(found.exclude(pk=contact.pk).order_by("-created_at")[:8])


def _post(request: HttpRequest, actor: Actor, contact: Contact) -> HttpResponse:
    op = request.POST.get("op")
    here = reverse("contact_detail", args=[actor.workspace.slug, contact.pk])
    if op == "details":
        flash_action(
            request,
            lambda: actions.do_update_contact(
                actor=actor,
                contact=contact,
                name=request.POST.get("name", ""),
                email=request.POST.get("email", ""),
                phone=request.POST.get("phone", ""),
            ),
            "Contact saved.",
        )
    elif op == "attributes":
        keys = AttributeDefinition.objects.filter(workspace=actor.workspace).values_list(
            "key", "type"
        )
        values: dict[str, Any] = {}
        for key, kind in keys:
            if kind == AttributeDefinition.Type.BOOLEAN:
                raw = request.POST.get(f"attr_{key}", "")
                values[key] = raw or None
            elif f"attr_{key}" in request.POST:
                values[key] = request.POST.get(f"attr_{key}", "").strip() or None
        flash_action(
            request,
            lambda: actions.do_set_attributes(actor=actor, contact=contact, values=values),
            "Attributes saved.",
        )
    elif op in ("tag", "untag"):
        _tag(request, actor, contact, add=op == "tag")
    elif op == "consent":
        flash_action(
            request,
            lambda: actions.do_set_consent(
                actor=actor, contact=contact, consent=request.POST.get("consent", "")
            ),
            "Consent updated.",
        )
    elif op == "merge":
        raw = request.POST.get("duplicate_id", "")
        if not raw.isdigit():
            messages.error(request, "Pick the contact to merge into this one.")
        else:
            duplicate = access.access_contact(actor, int(raw))
            flash_action(
                request,
                lambda: do_merge_contacts(actor=actor, survivor=contact, duplicate=duplicate),
                f"{duplicate.display_name} was merged into this contact.",
            )
    elif op == "delete":
        name = contact.display_name
        if flash_action(
            request,
            lambda: actions.do_delete_contact(actor=actor, contact=contact) or True,
            f"{name} was deleted.",
        ):
            return redirect("contacts", actor.workspace.slug)
    return redirect(here)


def _tag(request: HttpRequest, actor: Actor, contact: Contact, *, add: bool) -> None:
    name = request.POST.get("tag_name", "").strip()
    try:
        if add:
            tag: Tag | None = actions.do_ensure_tag(actor=actor, name=name)
        else:
            tag = access.tag_by_name(actor, name)
        if tag is not None:
            actions.do_tag_contacts(actor=actor, tag=tag, contact_ids=[contact.pk], add=add)
    except ActionError as exc:
        messages.error(request, exc.message)
