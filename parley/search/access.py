"""Saved searches are private: only their owner ever fetches one."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from parley.search.models import SavedSearch
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap


def saved_searches(actor: Actor) -> QuerySet[SavedSearch]:
    actor.require(Cap.CONTACTS_READ)
    if actor.user is None:
        return SavedSearch.objects.none()
    return SavedSearch.objects.filter(workspace=actor.workspace, user=actor.user).order_by("name")


def access_saved_search(actor: Actor, saved_search_id: int) -> SavedSearch:
    found = saved_searches(actor).filter(pk=saved_search_id).first()
    if found is None:
        raise Http404("No such saved search.")
    return found
