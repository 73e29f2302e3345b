"""Every fetch by id in the transfer app, scoped to the actor's workspace."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.transfer.models import ContactExport, ContactImport


def access_import(actor: Actor, import_id: int) -> ContactImport:
    actor.require(Cap.CONTACTS_TRANSFER)
    imp = ContactImport.objects.filter(workspace=actor.workspace, id=import_id).first()
    if imp is None:
        raise Http404("No such import.")
    return imp


def access_export(actor: Actor, export_id: int) -> ContactExport:
    actor.require(Cap.CONTACTS_TRANSFER)
    exp = ContactExport.objects.filter(workspace=actor.workspace, id=export_id).first()
    if exp is None:
        raise Http404("No such export.")
    return exp


def import_list(actor: Actor) -> QuerySet[ContactImport]:
    actor.require(Cap.CONTACTS_TRANSFER)
    return ContactImport.objects.filter(workspace=actor.workspace)


def export_list(actor: Actor) -> QuerySet[ContactExport]:
    actor.require(Cap.CONTACTS_TRANSFER)
    return ContactExport.objects.filter(workspace=actor.workspace)
