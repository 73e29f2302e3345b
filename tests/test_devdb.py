"""The embedded server runs with the settings devdb gives it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection


def test_the_embedded_server_has_its_shared_buffers(db: None) -> None:
    if not settings.EMBEDDED_DATABASE:
        pytest.skip("a real server is configured by its operator")
    from parley import devdb

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setting::bigint * pg_size_bytes(unit) = pg_size_bytes(%s)"
            " FROM pg_settings WHERE name = 'shared_buffers'",
            [devdb.SHARED_BUFFERS],
        )
        row = cursor.fetchone()
    assert row == (True,)
