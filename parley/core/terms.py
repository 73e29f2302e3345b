"""Word search through core_searchterm (see SearchTerm for why a btree of
words rather than a GIN index). Every word of the query must match a word of
the row, the query's words as prefixes ("deliv" finds "delivery")."""

from __future__ import annotations

import re

from django.db.models.expressions import RawSQL

from parley.core.models import SearchTerm

MAX_WORDS = 6
_PHONEISH = re.compile(r"^[\d\s()+.\-/]+$")
# The highest code point: "word" <= t < "word" + TOP is exactly "t starts with word"
# under the C collation the term column uses.
TOP = "\U0010ffff"


def query_words(q: str) -> list[str]:
    """The words of a query as the index holds them: lower case, punctuation
    trimmed from the ends (so "parcel?" is "parcel" but "shop.example" stays);
    a phone number typed with spaces and dashes is one word of digits, without
    the leading zeros of a national prefix."""
    q = q.strip().lower()
    if _PHONEISH.match(q) and sum(ch.isdigit() for ch in q) >= 3:
        digits = "".join(ch for ch in q if ch.isdigit()).lstrip("0")
        return [digits] if digits else []
    found: list[str] = []
    for raw in q.split():
        word = raw.strip("\"'`.,;:!?()[]{}<>*+~^|\\/")[:60]
        if word and word not in found:
            found.append(word)
    return found[:MAX_WORDS]


def matching(workspace_id: int, kind: SearchTerm.Kind, q: str) -> RawSQL | None:
    """A subquery of the ids of `kind` rows that hold every word of `q`, for
    `pk__in=`; None when the query has no words."""
    words = query_words(q)
    if not words:
        return None
    part = (
        "SELECT object_id FROM core_searchterm "
        "WHERE workspace_id = %s AND kind = %s AND term >= %s AND term < %s"
    )
    sql = " INTERSECT ".join([part] * len(words))
    params: list[object] = []
    for word in words:
        params += [workspace_id, int(kind), word, word + TOP]
    return RawSQL(sql, params)  # noqa: S611  (fixed SQL; the words are parameters)
