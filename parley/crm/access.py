"""Every fetch by id in the CRM, scoped to the actor's workspace."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from parley.crm.models import AttributeDefinition, Contact, Tag
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap


def access_contact(actor: Actor, contact_id: int) -> Contact:
    actor.require(Cap.CONTACTS_READ)
    contact = Contact.objects.filter(workspace=actor.workspace, id=contact_id).first()
    if contact is None:
        raise Http404("No such contact.")
    return contact


def access_tag(actor: Actor, tag_id: int) -> Tag:
    actor.require(Cap.CONTACTS_READ)
    tag = Tag.objects.filter(workspace=actor.workspace, id=tag_id).first()
    if tag is None:
        raise Http404("No such tag.")
    return tag


def contact_list(actor: Actor, *, q: str = "", tag_id: int | None = None) -> QuerySet[Contact]:
    """Contacts found by name, number or email, optionally with one tag."""
    actor.require(Cap.CONTACTS_READ)
    qs = Contact.objects.filter(workspace=actor.workspace)
    q = q.strip()
    if q:
        digits = "".join(ch for ch in q if ch.isdigit())
        match = Q(name__icontains=q) | Q(profile_name__icontains=q) | Q(email__icontains=q)
        if digits:
            match |= Q(wa_id__contains=digits)
        qs = qs.filter(match)
    if tag_id is not None:
        qs = qs.filter(contact_tags__tag_id=tag_id)
    return qs


def access_attribute(actor: Actor, attribute_id: int) -> AttributeDefinition:
    actor.require(Cap.CONTACTS_READ)
    definition = AttributeDefinition.objects.filter(
        workspace=actor.workspace, id=attribute_id
    ).first()
    if definition is None:
        raise Http404("No such attribute.")
    return definition
