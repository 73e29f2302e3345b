"""A definition compiled to one SQL query over contacts.

``contacts_matching`` is the public entry point (broadcasts, export, the
contacts page): a lazy QuerySet, conditions as Q objects and EXISTS
subqueries, nothing filtered in Python and no query made until it is used.
Dates are the workspace's calendar days: its time zone is read inside the
same query, so a count stays one round trip.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.db.models import (
    BooleanField,
    CharField,
    DateTimeField,
    Exists,
    F,
    Func,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.expressions import RawSQL, Value
from django.db.models.fields.json import KeyTransform
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
    Lookup,
)
from django.utils import timezone

from parley.crm.models import Contact, ContactTag
from parley.inbox.models import Conversation
from parley.segments.bitmaps import bitmap_count
from parley.segments.definition import (
    AttributeCondition,
    ConsentCondition,
    ConversationCondition,
    DateColumnCondition,
    Definition,
    TagsCondition,
    TextColumnCondition,
    parse_definition,
)
from parley.tenancy.models import Workspace

_TZ_SQL = f'(SELECT "timezone" FROM "{Workspace._meta.db_table}" WHERE "id" = %s)'


def contacts_matching(
    workspace_id: int, definition: Definition | Mapping[str, Any]
) -> QuerySet[Contact]:
    """The workspace's contacts in the segment, as one lazy query.

    ``definition`` is a Definition or its JSON (a stored segment's); JSON is
    parsed without the database, so an invalid one raises ActionError."""
    parsed = parse_definition(definition)
    compiled = [_condition(workspace_id, c) for c in parsed.conditions]
    match = Q()
    for q in compiled:
        match = (match & q) if parsed.match == "all" else (match | q)
    return Contact.objects.filter(workspace_id=workspace_id).filter(match)


def count_matching(workspace_id: int, definition: Definition | Mapping[str, Any]) -> int:
    """How many contacts the segment holds right now: from the contact bitmaps
    when every condition is one (this transaction's queued bitmap changes are
    flushed first, then one query), else one query over the contacts."""
    parsed = parse_definition(definition)
    from_bitmaps = bitmap_count(workspace_id, parsed)
    if from_bitmaps is not None:
        return from_bitmaps
    return contacts_matching(workspace_id, parsed).count()


def _condition(ws: int, c: Any) -> Q:
    if isinstance(c, TagsCondition):
        return _tags(ws, c)
    if isinstance(c, AttributeCondition):
        return _attribute(ws, c)
    if isinstance(c, ConsentCondition):
        return Q(consent__in=c.value)
    if isinstance(c, ConversationCondition):
        having = Exists(
            Conversation.objects.filter(
                workspace_id=ws,
                contact_id=OuterRef("pk"),
                status__in=c.value,
            )
        )
        return Q(having) if c.op == "has_conversation_with_status" else ~Q(having)
    if isinstance(c, DateColumnCondition):
        return _date_column(ws, c)
    if isinstance(c, TextColumnCondition):
        return _text_column(c)
    raise TypeError(f"no compiler for {type(c).__name__}")


def _tags(ws: int, c: TagsCondition) -> Q:
    if c.op == "has_all":
        # One semi-join per tag: each is an index-only probe of
        # (workspace, tag, contact), where grouping and counting every tag row
        # of the workspace spilled to disk on big tags.
        every = Q()
        for tag_id in c.value:
            every &= Q(
                Exists(
                    ContactTag.objects.filter(
                        workspace_id=ws, tag_id=tag_id, contact_id=OuterRef("pk")
                    )
                )
            )
        return every
    tagged = ContactTag.objects.filter(workspace_id=ws, tag_id__in=c.value)
    exists = Exists(tagged.filter(contact_id=OuterRef("pk")))
    return Q(exists) if c.op == "has_any" else ~Q(exists)


# --- Contact columns ---------------------------------------------------------


def _day_start(ws: int, day: datetime.date) -> RawSQL:
    """Midnight of ``day`` in the workspace's time zone."""
    return RawSQL(  # noqa: S611  (constant SQL, values are parameters)
        f"make_timestamptz(%s, %s, %s, 0, 0, 0, {_TZ_SQL})",
        [day.year, day.month, day.day, ws],
        output_field=DateTimeField(),
    )


def _date_column(ws: int, c: DateColumnCondition) -> Q:
    col, op, value = c.field, c.op, c.value
    if op == "never":
        return Q(**{f"{col}__isnull": True})
    if op == "ever":
        return Q(**{f"{col}__isnull": False})
    if op in ("within_last_days", "more_than_days_ago"):
        assert isinstance(value, int)
        since = timezone.now() - timedelta(days=value)
        return (
            Q(**{f"{col}__gte": since}) if op == "within_last_days" else Q(**{f"{col}__lt": since})
        )
    assert isinstance(value, datetime.date)
    start, end = _day_start(ws, value), _day_start(ws, value + timedelta(days=1))
    if op == "before":
        return Q(**{f"{col}__lt": start})
    if op == "after":
        return Q(**{f"{col}__gte": end})
    return Q(**{f"{col}__gte": start}) & Q(**{f"{col}__lt": end})  # on


def _text_column(c: TextColumnCondition) -> Q:
    value = c.value or ""
    if c.field == "name":
        # People see the saved name, else the WhatsApp profile name: test both.
        if c.op == "contains":
            return Q(name__icontains=value) | Q(profile_name__icontains=value)
        if c.op == "eq":
            return Q(name__iexact=value) | Q(profile_name__iexact=value)
        empty = Q(name="") & Q(profile_name="")
        return empty if c.op == "not_set" else ~empty
    if c.field == "phone":
        digits = "".join(ch for ch in value if ch.isdigit())
        if c.op == "contains":
            return Q(wa_id__contains=digits)
        if c.op == "eq":
            return Q(wa_id=digits) | Q(phone_e164=f"+{digits}")
        return Q(phone_e164="") if c.op == "not_set" else ~Q(phone_e164="")
    if c.op == "contains":
        return Q(email__icontains=value)
    if c.op == "eq":
        return Q(email__iexact=value)
    return Q(email="") if c.op == "not_set" else ~Q(email="")


# --- Custom attributes (Contact.attributes JSONB) ------------------------------


class _JsonPathExists(Func):
    function = "jsonb_path_exists"
    output_field = BooleanField()


def _path(key: str, predicate: str, variables: RawSQL) -> Q:
    """attributes.<key> satisfies a jsonpath predicate on @ with $v bound.
    jsonpath compares only like types, so a value of another type (after an
    attribute changed type) simply does not match instead of failing the cast."""
    path = f"$.{json.dumps(key)} ? ({predicate})"
    return Q(_JsonPathExists(F("attributes"), RawSQL("%s::jsonpath", [path]), variables))


def _vars(**values: Any) -> RawSQL:
    return RawSQL("%s::jsonb", [json.dumps(values)])


def _date_vars(ws: int, days: int) -> RawSQL:
    """{"since": today minus ``days``, "today": today}, the workspace's calendar
    days as YYYY-MM-DD, computed once per query (a scalar subquery), not per row."""
    return RawSQL(  # noqa: S611  (constant SQL, values are parameters)
        "(SELECT jsonb_build_object('since', to_char(d - %s::int, 'YYYY-MM-DD'), "
        "'today', to_char(d, 'YYYY-MM-DD')) "
        f"FROM (SELECT (now() AT TIME ZONE {_TZ_SQL})::date AS d) AS local_today)",
        [days, ws],
    )


_COMPARE = {"before": "<", "after": ">", "on": "=="}
_NUMBER_COMPARE: dict[str, type[Lookup]] = {
    "gt": GreaterThan,
    "gte": GreaterThanOrEqual,
    "lt": LessThan,
    "lte": LessThanOrEqual,
}


def _number(key: str, tests: tuple[tuple[type[Lookup], Any], ...]) -> Q:
    """attributes.<key> is a JSON number and passes every (lookup, bound).

    jsonb's own comparison orders numbers numerically, as jsonpath does, but
    costs a third as much per contact; and those contacts are many (a number
    condition runs on every contact the other conditions leave). The type
    test keeps a string or boolean left from an earlier attribute type out,
    as jsonpath does (jsonb would order them against numbers)."""
    value = KeyTransform(key, "attributes")
    match = Q(Exact(Func(value, function="jsonb_typeof", output_field=CharField()), "number"))
    for lookup, bound in tests:
        match &= Q(lookup(value, Value(bound, output_field=JSONField())))
    return match


def _attribute(ws: int, c: AttributeCondition) -> Q:
    key, op, value = c.key, c.op, c.value
    if op == "is_set":
        return Q(attributes__has_key=key)
    if op == "not_set":
        return ~Q(attributes__has_key=key)
    if op in ("eq", "neq", "is_true", "is_false"):
        wanted = {"is_true": True, "is_false": False}.get(op, value)
        same = Q(attributes__contains={key: wanted})
        # "is not" includes contacts without a value: the exact complement of "is".
        return ~same if op == "neq" else same
    if op in ("in", "not_in"):
        assert isinstance(value, list)
        any_of = Q()
        for choice in value:
            any_of |= Q(attributes__contains={key: choice})
        return ~any_of if op == "not_in" else any_of
    if op == "contains":
        return _contains(key, str(value))
    if op in _NUMBER_COMPARE:
        return _number(key, ((_NUMBER_COMPARE[op], value),))
    if op == "between":
        assert isinstance(value, list)
        return _number(key, ((GreaterThanOrEqual, value[0]), (LessThanOrEqual, value[1])))
    if op in _COMPARE:
        return _path(key, f"@ {_COMPARE[op]} $v", _vars(v=value))
    if op == "within_last_days":
        assert isinstance(value, int)
        return _path(key, "@ >= $since && @ <= $today", _date_vars(ws, value))
    if op == "more_than_days_ago":
        assert isinstance(value, int)
        return _path(key, "@ < $since", _date_vars(ws, value))
    raise ValueError(f"unknown attribute operator {op!r}")


def _contains(key: str, text: str) -> Q:
    # like_regex takes a literal pattern; "q" quotes it, "i" ignores case.
    path = f'$.{json.dumps(key)} ? (@ like_regex {json.dumps(text)} flag "iq")'
    return Q(_JsonPathExists(F("attributes"), RawSQL("%s::jsonpath", [path]), _vars()))
