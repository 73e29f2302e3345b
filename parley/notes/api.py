"""Contact notes over the API. Thin."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from parley.core.errors import ActionError
from parley.crm.access import access_contact
from parley.notes import access, actions
from parley.notes.mentions import workspace_members
from parley.notes.paging import page_notes
from parley.notes.schemas import MentionableOut, NoteIn, NoteOut, NotePage, NoteUpdateIn
from parley.tenancy.actor import Actor, actor_of
from parley.tenancy.roles import Cap

router = Router(tags=["notes"])


def _mentions_filter(actor: Actor, mentions: str | None) -> int | None:
    if not mentions:
        return None
    if mentions != "me":
        raise ActionError(
            "mentions takes the value 'me' (notes that mention you).",
            code="invalid_filter",
            field="mentions",
        )
    if actor.user is None:
        raise ActionError(
            "mentions=me needs a person: an API token is nobody to mention.",
            code="invalid_filter",
            field="mentions",
        )
    return int(actor.user.pk)


@router.get(
    "/contacts/{contact_id}/notes",
    response=NotePage,
    summary="A contact's notes, pinned first, then newest",
)
def list_contact_notes(
    request: HttpRequest, contact_id: int, cursor: str | None = None, limit: int = 50
) -> Any:
    actor = actor_of(request)
    contact = access_contact(actor, contact_id)
    qs = access.note_list(actor, access.NoteFilter(contact_id=contact.pk))
    return page_notes(qs, cursor=cursor, limit=limit, pinned_first=True)


@router.post(
    "/contacts/{contact_id}/notes", response={201: NoteOut}, summary="Add a note to a contact"
)
def create_note(request: HttpRequest, contact_id: int, payload: NoteIn) -> Any:
    actor = actor_of(request)
    contact = access_contact(actor, contact_id)
    note = actions.do_create_note(
        actor=actor, contact=contact, body=payload.body, pinned=payload.pinned
    )
    return Status(201, note)


@router.get(
    "/notes",
    response=NotePage,
    summary="Search and filter notes across contacts, newest first",
    description='`q` matches words by prefix ("inv" finds "invoice"); all words must '
    "match. `mentions=me` lists the notes that mention you.",
)
def list_notes(
    request: HttpRequest,
    author_id: int | None = None,
    mentions: str | None = None,
    pinned: bool | None = None,
    contact_id: int | None = None,
    q: str = "",
    cursor: str | None = None,
    limit: int = 50,
) -> Any:
    actor = actor_of(request)
    filters = access.NoteFilter(
        author_id=author_id,
        mentions_user_id=_mentions_filter(actor, mentions),
        pinned=pinned,
        contact_id=contact_id,
        q=q[:200],
    )
    qs = access.note_list(actor, filters)
    return page_notes(qs, cursor=cursor, limit=limit, pinned_first=False)


@router.get(
    "/notes/mentionable",
    response=list[MentionableOut],
    summary="Members who can be @mentioned, with their handles",
)
def mentionable(request: HttpRequest) -> Any:
    actor = actor_of(request)
    actor.require(Cap.CONTACTS_READ)
    return workspace_members(actor.workspace.pk)


@router.get("/notes/{note_id}", response=NoteOut, summary="Get a note")
def get_note(request: HttpRequest, note_id: int) -> Any:
    return access.access_note(actor_of(request), note_id)


@router.patch("/notes/{note_id}", response=NoteOut, summary="Edit a note (its author or an admin)")
def update_note(request: HttpRequest, note_id: int, payload: NoteUpdateIn) -> Any:
    actor = actor_of(request)
    note = access.access_note(actor, note_id)
    return actions.do_edit_note(actor=actor, note=note, body=payload.body)


@router.delete(
    "/notes/{note_id}", response={204: None}, summary="Delete a note (its author or an admin)"
)
def delete_note(request: HttpRequest, note_id: int) -> Any:
    actor = actor_of(request)
    actions.do_delete_note(actor=actor, note=access.access_note(actor, note_id))
    return Status(204, None)


@router.post("/notes/{note_id}/pin", response=NoteOut, summary="Pin a note to the top")
def pin_note(request: HttpRequest, note_id: int) -> Any:
    actor = actor_of(request)
    note = access.access_note(actor, note_id)
    return actions.do_set_pinned(actor=actor, note=note, pinned=True)


@router.post("/notes/{note_id}/unpin", response=NoteOut, summary="Unpin a note")
def unpin_note(request: HttpRequest, note_id: int) -> Any:
    actor = actor_of(request)
    note = access.access_note(actor, note_id)
    return actions.do_set_pinned(actor=actor, note=note, pinned=False)
