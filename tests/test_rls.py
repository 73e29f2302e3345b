"""The database wall: row-level security, probed with raw SQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from parley.core.checks import role_flags
from parley.core.rls import POLICY_NAME, tenant_models
from parley.core.tenant import activate_workspace, dangerously_cross_tenant, workspace_context
from parley.tenancy.models import AuditEvent, Membership
from tests.factories import Tenant

ROOT = Path(__file__).resolve().parent.parent


def _count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.django_db
def test_every_tenant_table_forces_its_policy() -> None:
    tables = [m._meta.db_table for m in tenant_models()]
    assert "tenancy_membership" in tables and "accounts_apitoken" in tables
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                      EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = %s)
                 FROM pg_class c WHERE c.relname = ANY(%s)""",
            [POLICY_NAME, tables],
        )
        rows = {r[0]: r[1:] for r in cursor.fetchall()}
    assert set(rows) == set(tables)
    for table, flags in rows.items():
        assert flags == (True, True, True), f"{table} lacks forced row-level security"


@pytest.mark.django_db
def test_raw_sql_without_a_workspace_sees_no_tenant_rows(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    with dangerously_cross_tenant(reason="test: the rows exist"):
        assert _count("tenancy_membership") == 8
        assert _count("accounts_apitoken") == 2
    with transaction.atomic():
        activate_workspace(None)
        for model in tenant_models():
            assert _count(model._meta.db_table) == 0, model._meta.db_table


@pytest.mark.django_db
def test_a_workspace_sees_only_itself(tenant_a: Tenant, tenant_b: Tenant) -> None:
    with workspace_context(tenant_a.workspace.pk):
        # An unfiltered query: the policy filters for it.
        assert {m.workspace_id for m in Membership.objects.all()} == {tenant_a.workspace.pk}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM tenancy_membership WHERE workspace_id = %s",
                [tenant_b.workspace.pk],
            )
            assert cursor.fetchone() == (0,)


@pytest.mark.django_db
def test_writing_into_another_workspace_is_refused(tenant_a: Tenant, tenant_b: Tenant) -> None:
    with (
        workspace_context(tenant_a.workspace.pk),
        pytest.raises(DatabaseError, match="row-level security"),
        transaction.atomic(),
    ):
        AuditEvent.objects.create(workspace=tenant_b.workspace, action="forged")
    with workspace_context(tenant_a.workspace.pk):
        # Updates cannot reach B's rows either: they are invisible.
        assert Membership.objects.filter(workspace=tenant_b.workspace).update(role="viewer") == 0


@pytest.mark.django_db
def test_the_app_role_is_neither_superuser_nor_bypassrls() -> None:
    name, is_super, bypass = role_flags()
    assert (is_super, bypass) == (False, False), name


def _superuser_url() -> str | None:
    if settings.EMBEDDED_DATABASE:
        from parley import devdb

        url = devdb.ensure_running()
        return url.replace(f"{devdb.APP_ROLE}@", "postgres@", 1)
    return os.environ.get("PARLEY_TEST_SUPERUSER_URL")


def test_a_superuser_connection_refuses_to_start() -> None:
    url = _superuser_url()
    if url is None:
        pytest.skip("no superuser URL for this server (set PARLEY_TEST_SUPERUSER_URL)")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "parley.E001" in result.stderr
