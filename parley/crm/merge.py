"""Merging a duplicate contact into the one that survives."""

from __future__ import annotations

from django.db import models, transaction
from django.utils import timezone

from parley.core.errors import ActionError, Conflict
from parley.core.events import publish
from parley.crm import history, merge_hooks
from parley.crm.models import Consent, Contact, ContactEvent, ContactTag
from parley.tenancy.actions import record as audit
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap


def _contact_foreign_keys() -> list[tuple[type[models.Model], str]]:
    """Every (model, field) pointing at Contact, in any installed app, so a
    model added later is moved without anyone remembering to list it."""
    found = []
    for rel in Contact._meta.related_objects:
        if rel.one_to_many or rel.one_to_one:
            found.append((rel.related_model, rel.field.name))
    return found


@transaction.atomic
def do_merge_contacts(*, actor: Actor, survivor: Contact, duplicate: Contact) -> Contact:
    """Move everything of `duplicate` (conversations, notes, tags, tasks, deals,
    history...) to `survivor`, fill the survivor's blanks from it, record the
    merge, and delete the duplicate."""
    actor.require(Cap.CONTACTS_WRITE)
    if survivor.pk == duplicate.pk:
        raise ActionError("Pick another contact to merge.", code="same_contact", field="duplicate")
    # Lock both, in id order so two merges of the same pair cannot deadlock.
    locked = {
        c.pk: c
        for c in Contact.objects.select_for_update()
        .filter(workspace=actor.workspace, pk__in=[survivor.pk, duplicate.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise Conflict("That contact no longer exists.", code="not_found", field="duplicate")
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    ws = actor.workspace.pk
    hooks = merge_hooks.hooks()
    moved = 0
    for hook in hooks.values():
        moved += hook(workspace_id=ws, loser_id=duplicate.pk, survivor_id=survivor.pk)
    # Tags: keep one row per tag.
    have = ContactTag.objects.filter(workspace_id=ws, contact=survivor).values("tag_id")
    ContactTag.objects.filter(workspace_id=ws, contact=duplicate, tag_id__in=have).delete()
    for model, field in _contact_foreign_keys():
        if model in hooks:
            continue
        moved += model._default_manager.filter(workspace_id=ws, **{field: duplicate.pk}).update(
            **{field: survivor.pk}
        )
    _absorb_fields(survivor, duplicate)
    gone = {"id": duplicate.pk, "name": duplicate.display_name, "phone": duplicate.phone_e164}
    duplicate.delete()
    survivor.save()
    history.record(
        workspace_id=ws,
        contact_id=survivor.pk,
        kind=ContactEvent.Kind.MERGED,
        summary=f"{actor.display_name} merged {gone['name']} ({gone['phone']}) into this contact",
        actor_id=actor.user_id,
        duplicate=gone,
        rows_moved=moved,
    )
    audit(actor, "contact.merged", target=str(survivor.pk), duplicate=gone)
    publish(ws, "contact", survivor.pk)
    return survivor


def _absorb_fields(survivor: Contact, duplicate: Contact) -> None:
    """The survivor's values win; its blanks take the duplicate's. Consent is
    the exception: an opt-out on either side wins, since sending to someone who
    said STOP is the costly mistake."""
    for field in ("name", "profile_name", "email"):
        if not getattr(survivor, field):
            setattr(survivor, field, getattr(duplicate, field))
    survivor.attributes = {**duplicate.attributes, **survivor.attributes}
    if duplicate.consent != Consent.UNKNOWN and (
        survivor.consent == Consent.UNKNOWN
        or (duplicate.consent == Consent.OPTED_OUT and survivor.consent != Consent.OPTED_OUT)
    ):
        survivor.consent = duplicate.consent
        survivor.consent_changed_at = duplicate.consent_changed_at
        survivor.consent_source = duplicate.consent_source
    for field in ("last_inbound_at", "last_outbound_at"):
        ours, theirs = getattr(survivor, field), getattr(duplicate, field)
        if theirs is not None and (ours is None or theirs > ours):
            setattr(survivor, field, theirs)
    survivor.created_at = min(survivor.created_at, duplicate.created_at)
    survivor.updated_at = timezone.now()
