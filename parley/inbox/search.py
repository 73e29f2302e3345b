"""Full-text search over messages: every word, as a prefix, through the
word index the database keeps (core.SearchTerm)."""

from __future__ import annotations

from django.db.models import QuerySet

from parley.core.models import SearchTerm
from parley.core.terms import matching
from parley.inbox.models import Message


def search_messages(workspace_id: int, q: str) -> QuerySet[Message]:
    ids = matching(workspace_id, SearchTerm.Kind.MESSAGE, q)
    qs = Message.objects.filter(workspace_id=workspace_id)
    return qs.none() if ids is None else qs.filter(pk__in=ids)
