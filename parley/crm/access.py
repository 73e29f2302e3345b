"""Every fetch by id in the CRM, scoped to the actor's workspace."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from parley.crm.models import AttributeDefinition, Contact, Tag
from parley.crm.search import search_contacts
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


def tag_by_name(actor: Actor, name: str) -> Tag | None:
    """The workspace's tag with this name, ignoring case (names are unique so)."""
    actor.require(Cap.CONTACTS_READ)
    return Tag.objects.filter(workspace=actor.workspace, name__iexact=name.strip()).first()


def contact_list(actor: Actor, *, q: str = "", tag_id: int | None = None) -> QuerySet[Contact]:
    """Contacts found by name, number, email or field value (through the word
    index, as the search box does), optionally with one tag."""
    actor.require(Cap.CONTACTS_READ)
    qs = Contact.objects.filter(workspace=actor.workspace)
    if q.strip():
        qs = search_contacts(actor.workspace.pk, q, default_country=actor.workspace.default_country)
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
