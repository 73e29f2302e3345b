"""Shared set-up for the notes tests."""

from __future__ import annotations

from typing import Any

from django.test import Client

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from tests.factories import Tenant


def make_contact(tenant: Tenant, name: str = "Ann Customer", wa_id: str = "15550001111") -> Contact:
    with workspace_context(tenant.workspace.pk):
        return Contact.objects.create(workspace=tenant.workspace, wa_id=wa_id, name=name)


def api(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(client, method)(f"/api/v1{url}", body, content_type="application/json")


def handle(user: Any) -> str:
    return f"@{user.email.split('@')[0]}"
