"""Finding contacts by any word about them: name, WhatsApp profile name,
email, number (with or without its country code), custom attribute values."""

from __future__ import annotations

from django.db.models import QuerySet

from parley.core.models import SearchTerm
from parley.core.terms import matching
from parley.crm.models import Contact


def search_contacts(workspace_id: int, q: str) -> QuerySet[Contact]:
    """Contacts holding every word of ``q`` (as prefixes). Unordered."""
    ids = matching(workspace_id, SearchTerm.Kind.CONTACT, q)
    qs = Contact.objects.filter(workspace_id=workspace_id)
    return qs.none() if ids is None else qs.filter(pk__in=ids)
