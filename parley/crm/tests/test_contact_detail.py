"""One contact's page: details, attributes, tags, consent, timeline; the API's
timeline; conversation tags."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from parley.core.tenant import workspace_context
from parley.crm.actions import do_define_attribute
from parley.crm.models import Contact, ContactEvent
from parley.inbox.models import ConversationTag
from tests.factories import Tenant, actor_for, seed_inbox

pytestmark = pytest.mark.django_db


def _contact(tenant: Tenant, contact_id: str) -> Contact:
    with workspace_context(tenant.workspace.pk):
        return Contact.objects.get(pk=contact_id)


def test_page_edits_and_records_history(tenant_a: Tenant, login: Any) -> None:
    ids = seed_inbox(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        owner = actor_for(tenant_a.workspace, tenant_a.owner)
        do_define_attribute(actor=owner, key="seats", label="Seats", type="number")
        do_define_attribute(actor=owner, key="vip", label="VIP", type="boolean")
    agent: Client = login(tenant_a.agent)
    url = f"/w/{tenant_a.workspace.slug}/contacts/{ids['contact_id']}/"
    agent.post(url, {"op": "details", "name": "Ann Lee", "email": "ANN@example.com", "phone": ""})
    agent.post(url, {"op": "attributes", "attr_seats": "12", "attr_vip": "yes"})
    bad = agent.post(url, {"op": "attributes", "attr_seats": "many"}, follow=True)
    assert "Seats must be a number" in bad.content.decode()
    agent.post(url, {"op": "tag", "tag_name": "Gold"})
    agent.post(url, {"op": "consent", "consent": "opted_out"})
    contact = _contact(tenant_a, ids["contact_id"])
    assert (contact.name, contact.email) == ("Ann Lee", "ann@example.com")
    assert contact.attributes == {"seats": 12, "vip": True}
    assert contact.consent == "opted_out"
    with workspace_context(tenant_a.workspace.pk):
        kinds = list(
            ContactEvent.objects.filter(contact=contact).order_by("at").values_list("kind", "actor")
        )
    assert [k for k, _ in kinds] == ["edited", "attributes", "tagged", "consent"]
    assert {a for _, a in kinds} == {tenant_a.agent.pk}

    page = agent.get(url).content.decode()
    # The timeline mixes the customer's message with the team's changes.
    assert "hi there" in page and "Customer wrote" in page
    assert "added the tag Gold" in page and "Seats = 12" in page
    assert 'value="12"' in page  # the typed attribute form shows the value

    viewer: Client = login(tenant_a.viewer)
    assert viewer.get(url).status_code == 200
    assert viewer.post(url, {"op": "tag", "tag_name": "X"}).status_code == 403


def test_phone_change_normalises_and_refuses_a_clash(tenant_a: Tenant, login: Any) -> None:
    agent: Client = login(tenant_a.agent)
    api = "/api/v1/contacts"
    a = agent.post(api, {"phone": "+4915123456711"}, content_type="application/json").json()
    agent.post(api, {"phone": "+4915123456712"}, content_type="application/json")
    moved = agent.patch(
        f"{api}/{a['id']}", {"phone": "+49 151 23456799"}, content_type="application/json"
    )
    assert moved.status_code == 200 and moved.json()["phone_e164"] == "+4915123456799"
    clash = agent.patch(
        f"{api}/{a['id']}", {"phone": "+4915123456712"}, content_type="application/json"
    )
    assert clash.status_code == 409 and "merge" in clash.json()["message"]


def test_timeline_api_pages_backwards(tenant_a: Tenant, login: Any) -> None:
    ids = seed_inbox(tenant_a)
    agent: Client = login(tenant_a.agent)
    for n in range(5):
        agent.post(
            f"/w/{tenant_a.workspace.slug}/contacts/{ids['contact_id']}/",
            {"op": "tag", "tag_name": f"t{n}"},
        )
    url = f"/api/v1/contacts/{ids['contact_id']}/timeline"
    first = agent.get(url, {"limit": 4}).json()
    assert len(first["items"]) == 4 and first["next_before"]
    rest = agent.get(url, {"limit": 4, "before": first["next_before"]}).json()
    titles = [e["title"] for e in first["items"] + rest["items"]]
    # Five tag events and the customer's message, newest first, none twice.
    assert len(titles) == 6 and len(set(titles)) == 6
    assert titles[-1] == "Customer wrote"
    assert rest["next_before"] is None


def test_detail_page_query_count_is_bounded(
    tenant_a: Tenant, login: Any, django_assert_max_num_queries: Any
) -> None:
    ids = seed_inbox(tenant_a)
    agent: Client = login(tenant_a.agent)
    url = f"/w/{tenant_a.workspace.slug}/contacts/{ids['contact_id']}/"
    for n in range(20):
        agent.post(url, {"op": "tag", "tag_name": f"t{n}"})
    with django_assert_max_num_queries(40):
        assert agent.get(url).status_code == 200


def test_conversation_tags_from_thread_and_api(tenant_a: Tenant, login: Any) -> None:
    ids = seed_inbox(tenant_a)
    agent: Client = login(tenant_a.agent)
    thread = f"/w/{tenant_a.workspace.slug}/inbox/{ids['conversation_id']}/tag/"
    agent.post(thread, {"tag_name": "Billing", "mode": "add"})
    page = agent.get(f"/w/{tenant_a.workspace.slug}/inbox/{ids['conversation_id']}/").content
    assert b"Billing" in page
    api = f"/api/v1/tags/{ids['tag_id']}/conversations"
    body = json.dumps({"conversation_ids": [int(ids["conversation_id"]), 999999]})
    assert agent.post(api, body, content_type="application/json").json() == {"changed": 1}
    listed = agent.get("/api/v1/conversations", {"tag_id": ids["tag_id"]}).json()["items"]
    assert [c["id"] for c in listed] == [int(ids["conversation_id"])]
    assert sorted(t["name"] for t in listed[0]["tags"]) == ["Billing", "VIP"]
    agent.post(f"{api}/remove", body, content_type="application/json")
    agent.post(thread, {"tag_name": "Billing", "mode": "remove"})
    with workspace_context(tenant_a.workspace.pk):
        assert not ConversationTag.objects.exists()
    viewer: Client = login(tenant_a.viewer)
    assert viewer.post(thread, {"tag_name": "X"}).status_code == 403


def test_tags_and_fields_page(tenant_a: Tenant, login: Any) -> None:
    admin: Client = login(tenant_a.admin)
    url = f"/w/{tenant_a.workspace.slug}/contacts/setup/"
    admin.post(url, {"op": "tag_save", "name": "Lead", "color": "#aa0000"})
    admin.post(
        url,
        {
            "op": "attribute_new",
            "label": "Plan",
            "key": "plan",
            "type": "choice",
            "choices": "a, b",
        },
    )
    refused = admin.post(
        url, {"op": "attribute_new", "label": "X", "key": "9bad", "type": "text"}, follow=True
    )
    assert "A key starts with a letter" in refused.content.decode()
    with workspace_context(tenant_a.workspace.pk):
        from parley.crm.models import AttributeDefinition, Tag

        tag = Tag.objects.get(name="Lead")
        assert AttributeDefinition.objects.get().choices == ["a", "b"]
    admin.post(url, {"op": "tag_save", "id": tag.pk, "name": "Hot lead", "color": "#00aa00"})
    page = admin.get(url).content.decode()
    assert "Hot lead" in page and "#00aa00" in page
    agent: Client = login(tenant_a.agent)
    assert agent.post(url, {"op": "attribute_new", "key": "x", "type": "text"}).status_code == 403
    admin.post(url, {"op": "tag_delete", "id": tag.pk})
    with workspace_context(tenant_a.workspace.pk):
        assert not Tag.objects.exists()
