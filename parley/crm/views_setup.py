"""Tags and custom contact fields: the workspace's CRM vocabulary. Thin."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from parley.crm import access, actions
from parley.crm.models import AttributeDefinition, Tag
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.tenancy.web import flash_action, workspace_view


@workspace_view(Cap.CONTACTS_READ)
def contact_setup(request: HttpRequest, actor: Actor) -> HttpResponse:
    if request.method == "POST":
        return _post(request, actor)
    tags = (
        Tag.objects.filter(workspace=actor.workspace)
        .annotate(contacts=Count("contact_tags"))
        .order_by("name")
    )
    return render(
        request,
        "crm/setup.html",
        {
            "tags": tags,
            "attributes": AttributeDefinition.objects.filter(workspace=actor.workspace).order_by(
                "label"
            ),
            "types": AttributeDefinition.Type.choices,
            "can_write": actor.can(Cap.CONTACTS_WRITE),
            "can_manage": actor.can(Cap.WORKSPACE_MANAGE),
        },
    )


def _post(request: HttpRequest, actor: Actor) -> HttpResponse:
    op = request.POST.get("op", "")
    raw_id = request.POST.get("id", "")
    if op in ("tag_save", "tag_delete"):
        actor.require(Cap.CONTACTS_WRITE)
        tag = access.access_tag(actor, int(raw_id)) if raw_id.isdigit() else None
        if op == "tag_delete" and tag is not None:
            name = tag.name
            flash_action(
                request,
                lambda: actions.do_delete_tag(actor=actor, tag=tag),
                f"Tag {name} deleted.",
            )
        elif op == "tag_save":
            flash_action(
                request,
                lambda: actions.do_save_tag(
                    actor=actor,
                    tag=tag,
                    name=request.POST.get("name", ""),
                    color=request.POST.get("color", "#128c7e"),
                ),
                "Tag saved.",
            )
    elif op == "attribute_new":
        actor.require(Cap.WORKSPACE_MANAGE)
        choices = request.POST.get("choices", "").replace("\n", ",").split(",")
        flash_action(
            request,
            lambda: actions.do_define_attribute(
                actor=actor,
                key=request.POST.get("key", ""),
                label=request.POST.get("label", ""),
                type=request.POST.get("type", ""),
                choices=choices,
            ),
            "Field added.",
        )
    elif op == "attribute_delete" and raw_id.isdigit():
        actor.require(Cap.WORKSPACE_MANAGE)
        definition = access.access_attribute(actor, int(raw_id))
        flash_action(
            request,
            lambda: actions.do_delete_attribute(actor=actor, definition=definition),
            f"Field {definition.label} deleted, with its values.",
        )
    return redirect("contact_setup", actor.workspace.slug)
