"""Every state change of contacts."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from parley.core import domain_events, interest
from parley.core.errors import ActionError, Conflict
from parley.core.events import publish
from parley.crm import history
from parley.crm.access import tag_by_name
from parley.crm.attributes import KEY, clean_attributes
from parley.crm.models import (
    AttributeDefinition,
    Consent,
    Contact,
    ContactEvent,
    ContactTag,
    Tag,
)
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap


def e164_from_wa_id(wa_id: str) -> str:
    """WhatsApp ids are the number in digits, country code first."""
    try:
        parsed = phonenumbers.parse("+" + wa_id, None)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def do_upsert_contact_from_whatsapp(
    *, workspace_id: int, wa_id: str, profile_name: str, seen_at: datetime | None = None
) -> Contact:
    """Create the contact a customer's message comes from, or refresh its
    WhatsApp profile name. Runs in the workspace's transaction."""
    seen_at = seen_at or timezone.now()
    contact, created = Contact.objects.get_or_create(
        workspace_id=workspace_id,
        wa_id=wa_id,
        defaults={
            "profile_name": profile_name[:200],
            "phone_e164": e164_from_wa_id(wa_id),
            "last_inbound_at": seen_at,
        },
    )
    if created:
        domain_events.emit(workspace_id, domain_events.CONTACT_CREATED, contact_ids=[contact.pk])
    else:
        fields = []
        if profile_name and contact.profile_name != profile_name[:200]:
            contact.profile_name = profile_name[:200]
            fields.append("profile_name")
        if contact.last_inbound_at is None or contact.last_inbound_at < seen_at:
            contact.last_inbound_at = seen_at
            fields.append("last_inbound_at")
        if fields:
            contact.updated_at = timezone.now()
            contact.save(update_fields=[*fields, "updated_at"])
    return contact


# --- Contacts, consent and tags managed by people -------------------------


def normalize_phone(raw: str, default_country: str) -> str:
    """E.164 from what a person typed ("0151 2345678", "+49 151…", "(555) 010-0100")."""
    try:
        parsed = phonenumbers.parse(raw.strip(), default_country or None)
    except phonenumbers.NumberParseException as exc:
        raise ActionError(
            f"{raw!r} is not a phone number: {exc}.", code="invalid_phone", field="phone"
        ) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ActionError(
            f"{raw!r} is not a valid number for {default_country or 'its country'}; "
            "write it with its country code, e.g. +49 151 23456789.",
            code="invalid_phone",
            field="phone",
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _validate_email(email: str) -> str:
    email = email.strip()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ActionError(
            f"{email!r} is not an email address.", code="invalid_email", field="email"
        ) from exc
    return email.lower()


@transaction.atomic
def do_create_contact(*, actor: Actor, phone: str, name: str = "", email: str = "") -> Contact:
    actor.require(Cap.CONTACTS_WRITE)
    e164 = normalize_phone(phone, actor.workspace.default_country)
    wa_id = e164.lstrip("+")
    if Contact.objects.filter(workspace=actor.workspace, wa_id=wa_id).exists():
        raise Conflict(f"A contact with {e164} exists already.", code="duplicate", field="phone")
    contact = Contact.objects.create(
        workspace=actor.workspace,
        wa_id=wa_id,
        phone_e164=e164,
        name=name.strip()[:200],
        email=_validate_email(email),
    )
    history.record(
        workspace_id=actor.workspace.pk,
        contact_id=contact.pk,
        kind=ContactEvent.Kind.CREATED,
        summary=f"{actor.display_name} added the contact",
        actor_id=actor.user_id,
    )
    publish(actor.workspace.pk, "contact", contact.pk)
    domain_events.emit(actor.workspace.pk, domain_events.CONTACT_CREATED, contact_ids=[contact.pk])
    return contact


@transaction.atomic
def do_update_contact(
    *,
    actor: Actor,
    contact: Contact,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> Contact:
    actor.require(Cap.CONTACTS_WRITE)
    changed: list[str] = []
    if name is not None and contact.name != name.strip()[:200]:
        contact.name = name.strip()[:200]
        changed.append("name")
    clean_email = _validate_email(email) if email is not None else contact.email
    if clean_email != contact.email:
        contact.email = clean_email
        changed.append("email")
    if phone is not None and phone.strip():
        e164 = normalize_phone(phone, actor.workspace.default_country)
        if e164 != contact.phone_e164:
            wa_id = e164.lstrip("+")
            clash = Contact.objects.filter(workspace=actor.workspace, wa_id=wa_id).exclude(
                pk=contact.pk
            )
            if clash.exists():
                raise Conflict(
                    f"Another contact has {e164}; merge the two instead.",
                    code="duplicate",
                    field="phone",
                )
            contact.phone_e164, contact.wa_id = e164, wa_id
            changed.append("phone")
    if not changed:
        return contact
    contact.updated_at = timezone.now()
    fields = [f for f in changed if f != "phone"] + (
        ["phone_e164", "wa_id"] if "phone" in changed else []
    )
    contact.save(update_fields=[*fields, "updated_at"])
    history.record(
        workspace_id=actor.workspace.pk,
        contact_id=contact.pk,
        kind=ContactEvent.Kind.EDITED,
        summary=f"{actor.display_name} changed the {' and '.join(changed)}",
        actor_id=actor.user_id,
        fields=changed,
    )
    publish(actor.workspace.pk, "contact", contact.pk)
    domain_events.emit(
        actor.workspace.pk, domain_events.CONTACT_UPDATED, contact_ids=[contact.pk], fields=changed
    )
    return contact


@transaction.atomic
def do_delete_contact(*, actor: Actor, contact: Contact) -> None:
    """Delete the contact with its conversations and messages."""
    actor.require(Cap.CONTACTS_WRITE)
    contact.delete()


def set_consent(contact: Contact, consent: str, source: str, actor_id: int | None = None) -> bool:
    """Record a consent change (no check: used by people and by keywords)."""
    if contact.consent == consent:
        return False
    contact.consent = consent
    contact.consent_changed_at = timezone.now()
    contact.consent_source = source[:40]
    contact.save(update_fields=["consent", "consent_changed_at", "consent_source"])
    history.record(
        workspace_id=contact.workspace_id,
        contact_id=contact.pk,
        kind=ContactEvent.Kind.CONSENT,
        summary=f"Consent: {Consent(consent).label.lower()} ({source[:40]})",
        actor_id=actor_id,
        consent=consent,
        source=source[:40],
    )
    if consent == Consent.OPTED_OUT:
        domain_events.emit(
            contact.workspace_id, domain_events.CONTACT_OPTED_OUT, contact_ids=[contact.pk]
        )
    return True


@transaction.atomic
def do_set_consent(
    *, actor: Actor, contact: Contact, consent: str, source: str = "agent"
) -> Contact:
    actor.require(Cap.CONTACTS_WRITE)
    if consent not in Consent.values:
        raise ActionError(
            f"Consent is one of {', '.join(Consent.values)}.",
            code="invalid_consent",
            field="consent",
        )
    set_consent(contact, consent, source or "agent", actor_id=actor.user_id)
    return contact


TAG_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _tag_fields(name: str, color: str) -> tuple[str, str]:
    name = " ".join(name.split())[:60]
    if not name:
        raise ActionError("Name the tag.", code="required", field="name")
    if not TAG_COLOR.match(color):
        raise ActionError("A colour is written like #128c7e.", code="invalid_color", field="color")
    return name, color.lower()


@transaction.atomic
def do_save_tag(*, actor: Actor, tag: Tag | None, name: str, color: str = "#128c7e") -> Tag:
    actor.require(Cap.CONTACTS_WRITE)
    name, color = _tag_fields(name, color)
    clash = Tag.objects.filter(workspace=actor.workspace, name__iexact=name)
    if tag is not None:
        clash = clash.exclude(pk=tag.pk)
    if clash.exists():
        raise Conflict(f"There is a tag {name!r} already.", code="duplicate", field="name")
    if tag is None:
        tag = Tag(workspace=actor.workspace)
    renamed = tag.pk is not None
    tag.name, tag.color = name, color
    tag.save()
    if renamed:
        # Automation compiled with tag names (rules' timeline entries) recompiles.
        interest.bump(actor.workspace.pk)
    return tag


@transaction.atomic
def do_ensure_tag(*, actor: Actor, name: str) -> Tag:
    """The tag with this name, created (in the default colour) if new: what
    typing a tag name into a "tag these" box means."""
    return tag_by_name(actor, name) or do_save_tag(actor=actor, tag=None, name=name)


@transaction.atomic
def do_delete_tag(*, actor: Actor, tag: Tag) -> None:
    actor.require(Cap.CONTACTS_WRITE)
    tag.delete()
    # Auto-tag rules and workflows compiled per process may name this tag:
    # they recompile without it rather than write a row pointing at nothing.
    interest.bump(actor.workspace.pk)


@transaction.atomic
def do_tag_contacts(*, actor: Actor, tag: Tag, contact_ids: list[int], add: bool) -> int:
    """Apply or remove a tag on many contacts at once; ids of other
    workspaces are ignored like missing ones. Returns how many changed."""
    actor.require(Cap.CONTACTS_WRITE)
    if len(contact_ids) > 10_000:
        raise ActionError(
            "Tag at most 10,000 contacts per call.", code="too_many", field="contact_ids"
        )
    ids = set(
        Contact.objects.filter(workspace=actor.workspace, id__in=contact_ids).values_list(
            "id", flat=True
        )
    )
    if add:
        existing = set(
            ContactTag.objects.filter(
                workspace=actor.workspace, tag=tag, contact_id__in=ids
            ).values_list("contact_id", flat=True)
        )
        new = [
            ContactTag(workspace=actor.workspace, tag=tag, contact_id=i)
            for i in sorted(ids - existing)
        ]
        ContactTag.objects.bulk_create(new, ignore_conflicts=True)
        changed = [t.contact_id for t in new]
    else:
        gone = ContactTag.objects.filter(workspace=actor.workspace, tag=tag, contact_id__in=ids)
        changed = sorted(gone.values_list("contact_id", flat=True))
        gone.delete()
    verb = "added the tag" if add else "removed the tag"
    history.record_many(
        workspace_id=actor.workspace.pk,
        contact_ids=changed,
        kind=ContactEvent.Kind.TAGGED if add else ContactEvent.Kind.UNTAGGED,
        summary=f"{actor.display_name} {verb} {tag.name}",
        actor_id=actor.user_id,
        tag_id=tag.pk,
    )
    if changed:
        domain_events.emit(
            actor.workspace.pk,
            domain_events.CONTACT_TAGGED if add else domain_events.CONTACT_UNTAGGED,
            contact_ids=changed,
            tag_id=tag.pk,
        )
    return len(changed)


@transaction.atomic
def do_set_attributes(*, actor: Actor, contact: Contact, values: dict[str, Any]) -> Contact:
    """Set (or, with None, clear) custom attribute values, each validated."""
    actor.require(Cap.CONTACTS_WRITE)
    definitions = {
        d.key: d
        for d in AttributeDefinition.objects.filter(workspace=actor.workspace, key__in=list(values))
    }
    cleaned = clean_attributes(definitions, values)
    merged = {**contact.attributes, **cleaned}
    before = contact.attributes
    contact.attributes = {k: v for k, v in merged.items() if v is not None}
    after = contact.attributes
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if not changed:
        return contact
    contact.updated_at = timezone.now()
    contact.save(update_fields=["attributes", "updated_at"])
    labels = {k: d.label for k, d in definitions.items()}
    shown = ", ".join(f"{labels.get(k, k)} = {after.get(k, '(cleared)')}" for k in changed)
    history.record(
        workspace_id=actor.workspace.pk,
        contact_id=contact.pk,
        kind=ContactEvent.Kind.ATTRIBUTES,
        summary=f"{actor.display_name} set {shown}",
        actor_id=actor.user_id,
        keys=changed,
    )
    domain_events.emit(
        actor.workspace.pk,
        domain_events.CONTACT_UPDATED,
        contact_ids=[contact.pk],
        fields=[f"attributes.{k}" for k in changed],
    )
    return contact


@transaction.atomic
def do_define_attribute(
    *, actor: Actor, key: str, label: str, type: str, choices: list[str] | None = None
) -> AttributeDefinition:
    actor.require(Cap.WORKSPACE_MANAGE)
    key = key.strip().lower()
    if not KEY.match(key):
        raise ActionError(
            "A key starts with a letter and uses a-z, 0-9 and _ (40 at most).",
            code="invalid_key",
            field="key",
        )
    if type not in AttributeDefinition.Type.values:
        raise ActionError(
            f"The type is one of {', '.join(AttributeDefinition.Type.values)}.",
            code="invalid_type",
            field="type",
        )
    options = [c.strip() for c in (choices or []) if c.strip()]
    if type == AttributeDefinition.Type.CHOICE and not options:
        raise ActionError("A choice attribute needs its choices.", code="required", field="choices")
    if AttributeDefinition.objects.filter(workspace=actor.workspace, key=key).exists():
        raise Conflict(f"The attribute {key!r} exists already.", code="duplicate", field="key")
    return AttributeDefinition.objects.create(
        workspace=actor.workspace,
        key=key,
        label=(label.strip() or key)[:80],
        type=type,
        choices=options,
    )


@transaction.atomic
def do_delete_attribute(*, actor: Actor, definition: AttributeDefinition) -> None:
    """Delete the definition; contacts' values for it are dropped too."""
    actor.require(Cap.WORKSPACE_MANAGE)
    key = definition.key
    for contact in Contact.objects.filter(workspace=actor.workspace, attributes__has_key=key):
        contact.attributes.pop(key, None)
        contact.save(update_fields=["attributes"])
    definition.delete()
