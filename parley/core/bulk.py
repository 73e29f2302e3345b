"""Bulk UPDATE of many rows in one statement (UPDATE ... FROM unnest(arrays)).

Django's bulk_update builds a CASE expression per field and row, which costs
more CPU than the database spends on the update itself; the hot batch paths
(webhook processing) use this instead."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model


def update_rows(objs: Sequence[Model], fields: Sequence[str]) -> int:
    """Write ``fields`` of ``objs`` (all of one model) back, by primary key."""
    if not objs:
        return 0
    meta = type(objs[0])._meta
    quote = connection.ops.quote_name
    pk = meta.pk
    assert pk is not None
    columns: list[Field[Any, Any]] = [pk]
    for name in fields:
        field = meta.get_field(name)
        assert isinstance(field, Field), name
        columns.append(field)
    arrays = []
    casts = []
    for field in columns:
        values = [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs]
        arrays.append(values)
        casts.append(field.cast_db_type(connection) or field.db_type(connection))
    names = [quote(str(f.column)) for f in columns]
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    sources = ", ".join(f"%s::{cast}[]" for cast in casts)
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "
        f"FROM unnest({sources}) AS v({', '.join(names)}) WHERE t.{names[0]} = v.{names[0]}"
    )
    params: list[Any] = arrays
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def int_array(values: Iterable[int]) -> str:
    """A bigint[] literal, passed as one parameter (cast it: ``%s::bigint[]``).
    psycopg adapts a list parameter item by item in Python, which on batch
    paths of hundreds of ids costs more than the statement."""
    return "{" + ",".join(str(int(v)) for v in values) + "}"


def array_literal(values: Iterable[str | int | float | None]) -> str:
    """A PostgreSQL array literal, passed as one parameter and cast by the
    statement (``%s::text[]``, ``%s::bigint[]``): like ``int_array``, it spares
    psycopg quoting a long list item by item. ``None`` is NULL; a string must
    not hold NUL (PostgreSQL's text cannot), which raises ``ValueError``."""
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
        elif isinstance(value, str):
            if "\x00" in value:
                raise ValueError("a PostgreSQL string cannot hold NUL")
            parts.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
        elif isinstance(value, bool):
            raise TypeError("booleans have no array literal here")
        else:
            parts.append(repr(value))
    return "{" + ",".join(parts) + "}"
