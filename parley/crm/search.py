"""Finding contacts by any word about them: name, WhatsApp profile name,
email, number (with or without its country code), custom attribute values."""

from __future__ import annotations

import phonenumbers
from django.db.models import Q, QuerySet

from parley.core.models import SearchTerm
from parley.core.terms import matching, query_words
from parley.crm.models import Contact


def search_contacts(workspace_id: int, q: str, *, default_country: str = "") -> QuerySet[Contact]:
    """Contacts holding every word of ``q`` (as prefixes). Unordered.

    Numbers are indexed country code first (as WhatsApp writes them); one
    typed without it ("0151 2345") is also tried with the workspace's."""
    words = query_words(q)
    qs = Contact.objects.filter(workspace_id=workspace_id)
    if not words:
        return qs.none()
    alternatives = [q]
    if len(words) == 1 and words[0].isdigit() and default_country:
        code = str(phonenumbers.country_code_for_region(default_country.upper()) or "")
        if code and not words[0].startswith(code):
            alternatives.append(code + words[0])
    match = Q()
    for alternative in alternatives:
        ids = matching(workspace_id, SearchTerm.Kind.CONTACT, alternative)
        if ids is not None:
            match |= Q(pk__in=ids)
    return qs.filter(match) if match else qs.none()
