"""Every fetch of notes, scoped to the actor's workspace."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery
from django.db.models import QuerySet
from django.http import Http404

from parley.notes.models import ContactNote
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap

WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 8


def access_note(actor: Actor, note_id: int) -> ContactNote:
    actor.require(Cap.CONTACTS_READ)
    note = (
        ContactNote.objects.select_related("author", "contact")
        .filter(workspace=actor.workspace, id=note_id)
        .first()
    )
    if note is None:
        raise Http404("No such note.")
    return note


@dataclass(frozen=True)
class NoteFilter:
    author_id: int | None = None
    mentions_user_id: int | None = None
    pinned: bool | None = None
    contact_id: int | None = None
    q: str = ""


def prefix_query(text: str) -> SearchQuery | None:
    """Every word of ``text`` as a prefix ("inv" finds "invoice"), all required.
    Only word characters reach to_tsquery, so no input can break its syntax."""
    terms = WORD.findall(text.lower())[:MAX_TERMS]
    if not terms:
        return None
    return SearchQuery(" & ".join(f"{t}:*" for t in terms), search_type="raw", config="simple")


def note_list(actor: Actor, filters: NoteFilter) -> QuerySet[ContactNote]:
    actor.require(Cap.CONTACTS_READ)
    qs = ContactNote.objects.filter(workspace=actor.workspace)
    if filters.author_id is not None:
        qs = qs.filter(author_id=filters.author_id)
    if filters.mentions_user_id is not None:
        qs = qs.filter(mentions__user_id=filters.mentions_user_id)
    if filters.pinned is not None:
        qs = qs.filter(pinned=filters.pinned)
    if filters.contact_id is not None:
        qs = qs.filter(contact_id=filters.contact_id)
    if filters.q.strip():
        query = prefix_query(filters.q)
        if query is None:
            return qs.none()
        qs = qs.filter(search=query)
    # Contacts come in a second query by id: joined, the planner misjudges
    # crm_contact under its row-level-security policy and sorts the whole
    # workspace instead of walking note_ws_recent_idx.
    return qs.select_related("author").prefetch_related("contact")


def contact_notes(actor: Actor, contact_id: int) -> QuerySet[ContactNote]:
    """A contact's notes, pinned first, then newest."""
    return note_list(actor, NoteFilter(contact_id=contact_id)).order_by(
        "-pinned", "-created_at", "-id"
    )
