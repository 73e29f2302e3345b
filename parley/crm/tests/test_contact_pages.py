"""The contacts page as a member sees it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from parley.core.tenant import workspace_context
from parley.crm.models import Contact, ContactTag
from tests.factories import Tenant

pytestmark = pytest.mark.django_db


def test_add_search_and_tag_contacts(tenant_a: Tenant, login: Any) -> None:
    agent: Client = login(tenant_a.agent)
    url = f"/w/{tenant_a.workspace.slug}/contacts/"
    for phone, name in (("+4915123456711", "Ada"), ("+4915123456712", "Grace")):
        agent.post(url, {"op": "create", "phone": phone, "name": name})
    refused = agent.post(
        url, {"op": "create", "phone": "not a number"}, follow=True
    ).content.decode()
    assert "is not a phone number" in refused
    with workspace_context(tenant_a.workspace.pk):
        ids = {c.name: c.pk for c in Contact.objects.all()}
    agent.post(url, {"op": "tag", "tag_name": "VIP", "mode": "add", "contact": [ids["Ada"]]})
    with workspace_context(tenant_a.workspace.pk):
        assert ContactTag.objects.get().contact_id == ids["Ada"]
    page = agent.get(url, {"q": "gra"}).content.decode()
    assert "Grace" in page and "Ada" not in page
    viewer: Client = login(tenant_a.viewer)
    assert "Add a contact" not in viewer.get(url).content.decode()
    assert viewer.post(url, {"op": "create", "phone": "+4915123456713"}).status_code == 403
