"""Segment counts from the contact bitmaps (models.ContactBitmap).

A definition whose conditions all name sets (tags any/all/none, consent,
has / has no conversation with a status, a choice attribute is / is not one
of, a yes/no attribute is yes / is no) is a boolean expression over
bitmaps: AND, OR, and "all contacts AND NOT". ``bitmap_count`` evaluates it
chunk by chunk in one query (after one to read the attributes' types, when
a condition names one) and sums the set bits, reading one row per 1,024
contact ids per set named. Any other condition (dates, numbers, text) needs
the contacts themselves, so such a definition returns None and is counted by
the compiler's query. Both must always agree: tests compare them.
"""

from __future__ import annotations

from django.db import connection
from django.db.backends.utils import CursorWrapper

from parley.crm.models import AttributeDefinition
from parley.segments.definition import (
    AttributeCondition,
    ConsentCondition,
    ConversationCondition,
    Definition,
    TagsCondition,
)
from parley.segments.models import CHUNK_BITS, ContactBitmap

_ZERO = f"B'0'::bit({CHUNK_BITS})"
_ALL = "b0"  # the workspace's contacts; never NULL (chunks without any are skipped)

Kind = ContactBitmap.Kind


class _Expression:
    """Collects the bitmaps an expression names; b0 is always all contacts."""

    def __init__(self) -> None:
        self.atoms: dict[tuple[int, str], int] = {(Kind.CONTACT, ""): 0}

    def atom(self, kind: int, key: str) -> str:
        index = self.atoms.setdefault((kind, key), len(self.atoms))
        return f"coalesce(b{index}, {_ZERO})"

    @staticmethod
    def any_of(parts: list[str]) -> str:
        return "(" + " | ".join(parts) + ")" if parts else _ZERO

    @staticmethod
    def all_of(parts: list[str]) -> str:
        return "(" + " & ".join(parts) + ")" if parts else _ALL

    @staticmethod
    def none_of(part: str) -> str:
        return f"({_ALL} & ~{part})"


def _condition(expr: _Expression, c: object, types: dict[str, str]) -> str | None:
    if isinstance(c, AttributeCondition):
        return _attribute(expr, c, types.get(c.key))
    if isinstance(c, TagsCondition):
        tags = [expr.atom(Kind.TAG, str(tag_id)) for tag_id in c.value]
        if c.op == "has_all":
            return expr.all_of(tags)
        any_tag = expr.any_of(tags)
        return any_tag if c.op == "has_any" else expr.none_of(any_tag)
    if isinstance(c, ConsentCondition):
        return expr.any_of([expr.atom(Kind.CONSENT, value) for value in c.value])
    if isinstance(c, ConversationCondition):
        having = expr.any_of([expr.atom(Kind.CONVERSATION_STATUS, s) for s in c.value])
        return having if c.op == "has_conversation_with_status" else expr.none_of(having)
    return None


def _attribute(expr: _Expression, c: AttributeCondition, type_: str | None) -> str | None:
    """A choice attribute's "is one of" / "is none of", a yes/no attribute's
    "is yes" / "is no"; the bits hold string values of choices and booleans
    of yes/no attributes only (migration 0003), as the compiler matches."""
    if type_ == AttributeDefinition.Type.CHOICE and c.op in ("in", "not_in"):
        assert isinstance(c.value, list)  # parse_definition: a list of text values
        atoms = [expr.atom(Kind.ATTRIBUTE_VALUE, f"{c.key}={v}") for v in c.value]
        chosen = expr.any_of(atoms)
        return chosen if c.op == "in" else expr.none_of(chosen)
    if type_ == AttributeDefinition.Type.BOOLEAN and c.op in ("is_true", "is_false"):
        value = "true" if c.op == "is_true" else "false"
        return expr.atom(Kind.ATTRIBUTE_VALUE, f"{c.key}={value}")
    return None


_SETS = (TagsCondition, ConsentCondition, ConversationCondition)
_ATTRIBUTE_SET_OPS = ("in", "not_in", "is_true", "is_false")


def _may_be_bits(c: object) -> bool:
    """Without a query: could the condition be a bitmap? (A count that
    cannot stays one query.)"""
    if isinstance(c, AttributeCondition):
        return c.op in _ATTRIBUTE_SET_OPS
    return isinstance(c, _SETS)


def _attribute_types(workspace_id: int, definition: Definition) -> dict[str, str]:
    keys = {c.key for c in definition.conditions if isinstance(c, AttributeCondition)}
    if not keys:
        return {}
    found = AttributeDefinition.objects.filter(workspace_id=workspace_id, key__in=keys)
    return {key: str(type_) for key, type_ in found.values_list("key", "type")}


def flush_pending(cursor: CursorWrapper) -> None:
    """Apply this transaction's queued bitmap changes now, so a count sees its
    own writes (the queue is otherwise applied at commit; migration 0002).
    Later writes in the transaction then apply at once too."""
    cursor.execute("SET CONSTRAINTS parley_bitmap_pending IMMEDIATE")


def bitmap_count(workspace_id: int, definition: Definition) -> int | None:
    """How many contacts match, or None when a condition is not a bitmap."""
    if not all(_may_be_bits(c) for c in definition.conditions):
        return None
    expr = _Expression()
    parts = []
    types = _attribute_types(workspace_id, definition)
    for c in definition.conditions:
        part = _condition(expr, c, types)
        if part is None:
            return None
        parts.append(part)
    if not parts:
        matched = _ALL
    elif definition.match == "all":
        matched = expr.all_of(parts)
    else:
        matched = expr.any_of(parts)
    columns = ", ".join(
        f"bit_or(b.bits) FILTER (WHERE a.i = {index}) AS b{index}" for index in expr.atoms.values()
    )
    values = ", ".join("(%s, %s::smallint, %s::text)" for _ in expr.atoms)
    params: list[int | str] = []
    for (kind, key), index in expr.atoms.items():
        params += [index, kind, key]
    table = ContactBitmap._meta.db_table
    sql = (
        f"SELECT coalesce(sum(bit_count({_ALL} & {matched})), 0) FROM ("
        f" SELECT {columns} FROM (VALUES {values}) AS a(i, kind, key)"
        f" JOIN {table} b ON b.workspace_id = %s AND b.kind = a.kind AND b.key = a.key"
        " GROUP BY b.chunk) AS chunks"
        f" WHERE {_ALL} IS NOT NULL"
    )
    params.append(workspace_id)
    with connection.cursor() as cursor:
        flush_pending(cursor)
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return int(row[0])
