"""The hot path's prepared statements are prepared on the server (Django
turns psycopg's preparing off, and then psycopg ignores prepare=True)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parley.core import prepared

pytestmark = pytest.mark.django_db

PROBE = "SELECT %(n)s::bigint + 41 AS parley_prepared_probe"


def _server_side() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%parley_prepared_probe%"],
        )
        return [row[0] for row in cursor.fetchall()]


def test_statements_are_prepared_once_and_reused() -> None:
    answers = []
    with CaptureQueriesContext(connection) as captured:
        for n in (1, 2, 3):
            with prepared.cursor() as cursor:
                cursor.execute(PROBE, {"n": n})
                answers.append(cursor.fetchone()[0])
    assert len(captured.captured_queries) == 3
    assert answers == [42, 43, 44]
    # Query counting and logging still see the statement as written.
    assert "parley_prepared_probe" in (captured.captured_queries[-1]["sql"] or "")
    # One statement on the server for the three runs.
    assert len(_server_side()) == 1


def test_django_cursors_still_bind_on_the_client() -> None:
    with connection.cursor() as cursor:
        for n in (1, 2, 3, 4, 5, 6):
            cursor.execute("SELECT %s::bigint + 41 AS parley_prepared_probe", [n])
    assert _server_side() == []
