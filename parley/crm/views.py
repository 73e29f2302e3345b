"""Contact pages: list, search, create, tag in bulk. Thin."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from parley.core.errors import ActionError
from parley.crm import access, actions
from parley.crm.models import Consent, Tag
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.tenancy.web import flash_action, workspace_view

PAGE = 100


@workspace_view(Cap.CONTACTS_READ)
def contacts(request: HttpRequest, actor: Actor) -> HttpResponse:
    if request.method == "POST":
        actor.require(Cap.CONTACTS_WRITE)
        return _post(request, actor)
    q = request.GET.get("q", "")[:100]
    tag_id = request.GET.get("tag", "")
    tag_filter = int(tag_id) if tag_id.isdigit() else None
    rows = list(
        access.contact_list(actor, q=q, tag_id=tag_filter)
        .prefetch_related("contact_tags__tag")
        .order_by("-created_at")[:PAGE]
    )
    return render(
        request,
        "crm/contacts.html",
        {
            "contacts": rows,
            "tags": Tag.objects.filter(workspace=actor.workspace).order_by("name"),
            "q": q,
            "tag_filter": tag_filter,
            "can_write": actor.can(Cap.CONTACTS_WRITE),
            "consents": Consent.choices,
        },
    )


def _post(request: HttpRequest, actor: Actor) -> HttpResponse:
    op = request.POST.get("op")
    if op == "create":
        flash_action(
            request,
            lambda: actions.do_create_contact(
                actor=actor,
                phone=request.POST.get("phone", ""),
                name=request.POST.get("name", ""),
                email=request.POST.get("email", ""),
            ),
            "Contact added.",
        )
    elif op == "tag":
        ids = [int(i) for i in request.POST.getlist("contact") if i.isdigit()]
        name = request.POST.get("tag_name", "").strip()
        add = request.POST.get("mode", "add") == "add"
        try:
            tag = (
                actions.do_ensure_tag(actor=actor, name=name)
                if add
                else access.tag_by_name(actor, name)
            )
            if tag is None:
                messages.error(request, f"There is no tag {name!r}.")
                return redirect(request.get_full_path())
            changed = actions.do_tag_contacts(actor=actor, tag=tag, contact_ids=ids, add=add)
            verb = "tagged" if add else "untagged"
            messages.success(
                request, f"{changed} contact{'s' if changed != 1 else ''} {verb} {tag.name}."
            )
        except ActionError as exc:
            messages.error(request, exc.message)
    elif op == "new_tag":
        flash_action(
            request,
            lambda: actions.do_save_tag(
                actor=actor,
                tag=None,
                name=request.POST.get("name", ""),
                color=request.POST.get("color", "#128c7e"),
            ),
            "Tag created.",
        )
    return redirect(request.get_full_path())
