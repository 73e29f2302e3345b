"""Contacts, consent and tags over the API. Thin."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Status

from parley.core.pagination import paginate
from parley.crm import access, actions
from parley.crm.merge import do_merge_contacts
from parley.crm.models import AttributeDefinition, Tag
from parley.crm.schemas import (
    AttributeIn,
    AttributeOut,
    ConsentIn,
    ContactIn,
    ContactOut,
    ContactPage,
    ContactUpdateIn,
    MergeIn,
    TagContactsIn,
    TagContactsOut,
    TagIn,
    TagOut,
    TimelinePage,
)
from parley.crm.timeline import timeline
from parley.tenancy.actor import actor_of
from parley.tenancy.roles import Cap

router = Router(tags=["contacts"])


@router.get("/contacts", response=ContactPage, summary="List or search contacts")
def list_contacts(
    request: HttpRequest,
    q: str = "",
    tag_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Any:
    actor = actor_of(request)
    qs = access.contact_list(actor, q=q, tag_id=tag_id).prefetch_related("contact_tags__tag")
    return paginate(qs, cursor=cursor, limit=limit)


@router.post("/contacts", response={201: ContactOut}, summary="Create a contact")
def create_contact(request: HttpRequest, payload: ContactIn) -> Any:
    contact = actions.do_create_contact(
        actor=actor_of(request), phone=payload.phone, name=payload.name, email=payload.email
    )
    return Status(201, contact)


@router.get("/contacts/{contact_id}", response=ContactOut, summary="Get a contact")
def get_contact(request: HttpRequest, contact_id: int) -> Any:
    return access.access_contact(actor_of(request), contact_id)


@router.patch("/contacts/{contact_id}", response=ContactOut, summary="Edit a contact")
def update_contact(request: HttpRequest, contact_id: int, payload: ContactUpdateIn) -> Any:
    actor = actor_of(request)
    contact = access.access_contact(actor, contact_id)
    with transaction.atomic():  # attributes and fields together, or nothing
        if payload.attributes is not None:
            actions.do_set_attributes(actor=actor, contact=contact, values=payload.attributes)
        return actions.do_update_contact(
            actor=actor,
            contact=contact,
            name=payload.name,
            email=payload.email,
            phone=payload.phone,
        )


@router.get(
    "/contacts/{contact_id}/timeline",
    response=TimelinePage,
    summary="A contact's timeline: messages, notes, tasks, deals, tag and attribute changes",
)
def contact_timeline(
    request: HttpRequest, contact_id: int, before: datetime | None = None, limit: int = 50
) -> Any:
    actor = actor_of(request)
    contact = access.access_contact(actor, contact_id)
    limit = max(1, min(limit, 200))
    entries = timeline(
        workspace_id=actor.workspace.pk, contact_id=contact.pk, before=before, limit=limit
    )
    return {
        "items": entries,
        "next_before": entries[-1].at if len(entries) == limit else None,
    }


@router.post(
    "/contacts/{contact_id}/merge",
    response=ContactOut,
    summary="Merge a duplicate into this contact",
    description="Conversations, notes, tags, tasks, deals and history move to this contact; "
    "its blank fields are filled from the duplicate; an opt-out on either side wins. "
    "The duplicate is deleted and the merge is recorded.",
)
def merge_contact(request: HttpRequest, contact_id: int, payload: MergeIn) -> Any:
    actor = actor_of(request)
    survivor = access.access_contact(actor, contact_id)
    duplicate = access.access_contact(actor, payload.duplicate_id)
    return do_merge_contacts(actor=actor, survivor=survivor, duplicate=duplicate)


@router.delete(
    "/contacts/{contact_id}", response={204: None}, summary="Delete a contact and its conversations"
)
def delete_contact(request: HttpRequest, contact_id: int) -> Any:
    actor = actor_of(request)
    actions.do_delete_contact(actor=actor, contact=access.access_contact(actor, contact_id))
    return Status(204, None)


@router.post(
    "/contacts/{contact_id}/consent", response=ContactOut, summary="Record marketing consent"
)
def set_consent(request: HttpRequest, contact_id: int, payload: ConsentIn) -> Any:
    actor = actor_of(request)
    contact = access.access_contact(actor, contact_id)
    return actions.do_set_consent(
        actor=actor, contact=contact, consent=payload.consent, source=payload.source
    )


@router.get("/tags", response=list[TagOut], summary="List tags")
def list_tags(request: HttpRequest) -> Any:
    actor = actor_of(request)
    actor.require(Cap.CONTACTS_READ)
    return list(Tag.objects.filter(workspace=actor.workspace).order_by("name")[:1000])


@router.post("/tags", response={201: TagOut}, summary="Create a tag")
def create_tag(request: HttpRequest, payload: TagIn) -> Any:
    tag = actions.do_save_tag(
        actor=actor_of(request), tag=None, name=payload.name, color=payload.color
    )
    return Status(201, tag)


@router.patch("/tags/{tag_id}", response=TagOut, summary="Rename or recolour a tag")
def update_tag(request: HttpRequest, tag_id: int, payload: TagIn) -> Any:
    actor = actor_of(request)
    tag = access.access_tag(actor, tag_id)
    return actions.do_save_tag(actor=actor, tag=tag, name=payload.name, color=payload.color)


@router.delete("/tags/{tag_id}", response={204: None}, summary="Delete a tag")
def delete_tag(request: HttpRequest, tag_id: int) -> Any:
    actor = actor_of(request)
    actions.do_delete_tag(actor=actor, tag=access.access_tag(actor, tag_id))
    return Status(204, None)


@router.post("/tags/{tag_id}/contacts", response=TagContactsOut, summary="Tag many contacts")
def tag_contacts(request: HttpRequest, tag_id: int, payload: TagContactsIn) -> Any:
    actor = actor_of(request)
    tag = access.access_tag(actor, tag_id)
    return {
        "changed": actions.do_tag_contacts(
            actor=actor, tag=tag, contact_ids=payload.contact_ids, add=True
        )
    }


@router.post(
    "/tags/{tag_id}/contacts/remove", response=TagContactsOut, summary="Untag many contacts"
)
def untag_contacts(request: HttpRequest, tag_id: int, payload: TagContactsIn) -> Any:
    actor = actor_of(request)
    tag = access.access_tag(actor, tag_id)
    return {
        "changed": actions.do_tag_contacts(
            actor=actor, tag=tag, contact_ids=payload.contact_ids, add=False
        )
    }


@router.get("/attributes", response=list[AttributeOut], summary="Custom contact attributes")
def list_attributes(request: HttpRequest) -> Any:
    actor = actor_of(request)
    actor.require(Cap.CONTACTS_READ)
    return list(AttributeDefinition.objects.filter(workspace=actor.workspace).order_by("key"))


@router.post(
    "/attributes", response={201: AttributeOut}, summary="Define a custom attribute (admins)"
)
def define_attribute(request: HttpRequest, payload: AttributeIn) -> Any:
    definition = actions.do_define_attribute(actor=actor_of(request), **payload.model_dump())
    return Status(201, definition)


@router.delete(
    "/attributes/{attribute_id}", response={204: None}, summary="Delete a custom attribute"
)
def delete_attribute(request: HttpRequest, attribute_id: int) -> Any:
    actor = actor_of(request)
    actions.do_delete_attribute(
        actor=actor, definition=access.access_attribute(actor, attribute_id)
    )
    return Status(204, None)
