"""Word search through core_searchterm (see SearchTerm for why a btree of
words rather than a GIN index). Every word of the query must match a word of
the row, the query's words as prefixes ("deliv" finds "delivery")."""

from __future__ import annotations

import re

from django.db import connection
from django.db.backends.utils import CursorWrapper
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


SELECTIVE = 5000
# One common word: its newest NEWEST rows, read straight off the key in order.
NEWEST = 500
MAX_PREFIX_TERMS = 30
Param = int | str


def _range(alias: str) -> str:
    return (
        f"{alias}.workspace_id = %s AND {alias}.kind = %s"
        f" AND {alias}.term >= %s AND {alias}.term < %s"
    )


def matching(workspace_id: int, kind: SearchTerm.Kind, q: str) -> list[int] | RawSQL | None:
    """The ids of `kind` rows holding every word of `q`, for `pk__in=`; None
    when the query has no words.

    Two plans, because word frequencies differ by orders of magnitude: when
    some word is rare (a name, a number), its few thousand rows are fetched
    and checked for the other words (a list of ids); when every word is
    common ("hello"), a subquery lets PostgreSQL walk the newest rows and stop
    at the first matches instead of collecting hundreds of thousands."""
    words = query_words(q)
    if not words:
        return None

    def bounds(word: str) -> list[Param]:
        return [workspace_id, int(kind), word, word + TOP]

    with connection.cursor() as cursor:
        sizes = []
        for word in words:
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM core_searchterm t WHERE {_range('t')}"
                " LIMIT %s) AS probe",
                [*bounds(word), SELECTIVE],
            )
            row = cursor.fetchone()
            sizes.append(int(row[0]) if row else 0)
        if min(sizes) < SELECTIVE:
            rare = words[sizes.index(min(sizes))]
            sql = f"SELECT DISTINCT a.object_id FROM core_searchterm a WHERE {_range('a')}"
            params = bounds(rare)
            for word in words:
                if word != rare:
                    sql += (
                        " AND EXISTS (SELECT 1 FROM core_searchterm b"
                        f" WHERE b.object_id = a.object_id AND {_range('b')})"
                    )
                    params += bounds(word)
            cursor.execute(sql, params)
            return [int(r[0]) for r in cursor.fetchall()]
        if len(words) == 1:
            newest = _newest_for_prefix(cursor, workspace_id, kind, words[0])
            if newest is not None:
                return newest
    part = f"SELECT t.object_id FROM core_searchterm t WHERE {_range('t')}"
    params = []
    for word in words:
        params += bounds(word)
    return RawSQL(" INTERSECT ".join([part] * len(words)), params)  # noqa: S611  (fixed SQL)


def _newest_for_prefix(
    cursor: CursorWrapper, workspace_id: int, kind: SearchTerm.Kind, word: str
) -> list[int] | None:
    """The newest ids holding a word that starts with `word`, when few distinct
    words do: each word's ids are in key order, so every word is one short
    backward index scan, merged. None when the prefix covers too many words."""
    cursor.execute(
        "WITH RECURSIVE w(term) AS ("
        " (SELECT term FROM core_searchterm WHERE workspace_id = %s AND kind = %s"
        "  AND term >= %s AND term < %s ORDER BY term LIMIT 1)"
        " UNION ALL"
        " SELECT (SELECT s.term FROM core_searchterm s WHERE s.workspace_id = %s"
        "  AND s.kind = %s AND s.term > w.term AND s.term < %s ORDER BY s.term LIMIT 1)"
        " FROM w WHERE w.term IS NOT NULL"
        ") SELECT term FROM w WHERE term IS NOT NULL LIMIT %s",
        [
            workspace_id,
            int(kind),
            word,
            word + TOP,
            workspace_id,
            int(kind),
            word + TOP,
            MAX_PREFIX_TERMS + 1,
        ],
    )
    terms = [str(r[0]) for r in cursor.fetchall()]
    if not terms or len(terms) > MAX_PREFIX_TERMS:
        return None
    one = (
        "(SELECT object_id FROM core_searchterm WHERE workspace_id = %s AND kind = %s"
        " AND term = %s ORDER BY object_id DESC LIMIT %s)"
    )
    params: list[Param] = []
    for term in terms:
        params += [workspace_id, int(kind), term, NEWEST]
    cursor.execute(
        "SELECT object_id FROM (" + " UNION ALL ".join([one] * len(terms)) + ") AS newest"
        " ORDER BY object_id DESC LIMIT %s",
        [*params, NEWEST],
    )
    return [int(r[0]) for r in cursor.fetchall()]
