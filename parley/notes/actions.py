"""Every change to contact notes. Mentions notify on create and edit, each
member once per note."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from parley.core.errors import ActionError
from parley.crm.models import Contact
from parley.notes import markdown
from parley.notes.mentions import Member, handle_map
from parley.notes.models import BODY_MAX, ContactNote, NoteMention
from parley.notifications.actions import do_notify
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap


def _clean_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise ActionError("Write the note first.", code="required", field="body")
    if len(body) > BODY_MAX:
        raise ActionError(
            f"A note holds up to {BODY_MAX:,} characters; this one has {len(body):,}. "
            "Shorten it or split it in two.",
            code="too_long",
            field="body",
        )
    return body


def can_change(actor: Actor, note: ContactNote) -> bool:
    """Authors change their own notes; admins change anyone's."""
    if not actor.can(Cap.CONTACTS_WRITE):
        return False
    if actor.can(Cap.WORKSPACE_MANAGE):
        return True
    return actor.user_id is not None and note.author_id == actor.user_id


def require_change(actor: Actor, note: ContactNote, verb: str) -> None:
    actor.require(Cap.CONTACTS_WRITE)
    if not can_change(actor, note):
        raise PermissionDenied(f"Only the note's author or an admin can {verb} this note.")


def note_url(workspace_slug: str, note: ContactNote) -> str:
    try:
        page = reverse("contact_detail", args=[workspace_slug, note.contact_id])
    except NoReverseMatch:  # the contact page is optional to this app
        page = reverse("notes_list", args=[workspace_slug]) + f"?contact={note.contact_id}"
    return f"{page}#note-{note.pk}"


def _notify_mentions(
    actor: Actor, note: ContactNote, contact: Contact, members: list[Member]
) -> int:
    author = actor.user.display_name if actor.user is not None else actor.label
    url = note_url(actor.workspace.slug, note)
    excerpt = note.body if len(note.body) <= 300 else note.body[:299] + "…"
    sent = 0
    for member in members:
        if member.user_id == actor.user_id:
            continue  # writing "@me" is no news to me
        sent += do_notify(
            workspace_id=actor.workspace.pk,
            user_id=member.user_id,
            kind="mention",
            title=f"{author} mentioned you in a note on {contact.display_name}",
            body=excerpt,
            url=url,
            dedupe_key=f"note:{note.pk}:mention:{member.user_id}",
        )
    return sent


def _store_mentions(note: ContactNote, now: set[int], before: set[int] | None = None) -> None:
    before = before or set()
    gone = before - now
    if gone:
        NoteMention.objects.filter(
            workspace_id=note.workspace_id, note=note, user_id__in=gone
        ).delete()
    NoteMention.objects.bulk_create(
        [
            NoteMention(workspace_id=note.workspace_id, note=note, user_id=user_id)
            for user_id in sorted(now - before)
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def do_create_note(
    *, actor: Actor, contact: Contact, body: str, pinned: bool = False
) -> ContactNote:
    actor.require(Cap.CONTACTS_WRITE)
    body = _clean_body(body)
    rendered = markdown.render(body, handle_map(actor.workspace.pk))
    note = ContactNote.objects.create(
        workspace=actor.workspace,
        contact=contact,
        author=actor.user,
        author_label=actor.user.display_name if actor.user is not None else actor.label,
        body=body,
        body_html=rendered.html,
        pinned=pinned,
        mentioned_user_ids=sorted(m.user_id for m in rendered.mentioned),
    )
    _store_mentions(note, {m.user_id for m in rendered.mentioned})
    _notify_mentions(actor, note, contact, rendered.mentioned)
    return note


@transaction.atomic
def do_edit_note(*, actor: Actor, note: ContactNote, body: str) -> ContactNote:
    """Change the text; only members mentioned for the first time hear of it."""
    require_change(actor, note, "edit")
    body = _clean_body(body)
    if body == note.body:
        return note
    rendered = markdown.render(body, handle_map(actor.workspace.pk))
    before = set(note.mentioned_user_ids)
    note.body = body
    note.body_html = rendered.html
    note.mentioned_user_ids = sorted(m.user_id for m in rendered.mentioned)
    note.edited_at = timezone.now()
    note.save(update_fields=["body", "body_html", "mentioned_user_ids", "edited_at"])
    _store_mentions(note, set(note.mentioned_user_ids), before)
    added = [m for m in rendered.mentioned if m.user_id not in before]
    _notify_mentions(actor, note, note.contact, added)
    return note


@transaction.atomic
def do_set_pinned(*, actor: Actor, note: ContactNote, pinned: bool) -> ContactNote:
    require_change(actor, note, "pin or unpin")
    if note.pinned != pinned:
        note.pinned = pinned
        note.save(update_fields=["pinned"])
    return note


@transaction.atomic
def do_delete_note(*, actor: Actor, note: ContactNote) -> None:
    require_change(actor, note, "delete")
    note.delete()
