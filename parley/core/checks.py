"""System checks that refuse to start an unsafe deployment."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.db import DatabaseError, connection


def role_flags() -> tuple[str, bool, bool]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        row = cursor.fetchone()
    assert row is not None
    return str(row[0]), bool(row[1]), bool(row[2])


@register()
def check_database_role(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Row-level security is void for a superuser or a BYPASSRLS role."""
    try:
        name, is_super, bypass = role_flags()
    except DatabaseError as exc:
        return [Error(f"Cannot reach the database to check its role: {exc}", id="parley.E000")]
    errors: list[CheckMessage] = []
    if is_super:
        errors.append(
            Error(
                f"The database role {name!r} is a superuser, which bypasses row-level security.",
                hint="Connect as a role created with NOSUPERUSER NOBYPASSRLS (see README).",
                id="parley.E001",
            )
        )
    if bypass:
        errors.append(
            Error(
                f"The database role {name!r} has BYPASSRLS, which voids tenant isolation.",
                hint="ALTER ROLE ... NOBYPASSRLS, or connect as another role.",
                id="parley.E002",
            )
        )
    return errors


@register(deploy=True)
def check_secret_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.EMBEDDED_DATABASE:
        return []
    import os

    if not os.environ.get("SECRET_KEY"):
        return [Error("SECRET_KEY must be set in production.", id="parley.E003")]
    return []
