"""Every state change of contacts."""

from __future__ import annotations

from datetime import datetime

import phonenumbers
from django.utils import timezone

from parley.crm.models import Contact


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
    if not created:
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
