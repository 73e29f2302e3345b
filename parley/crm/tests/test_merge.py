"""Merging duplicates: everything moves to the survivor, nothing is lost,
the merge is recorded."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.crm.models import Contact, ContactEvent, ContactTag, Tag
from parley.inbox.models import Conversation, ConversationTag, Message, Note
from parley.tenancy.models import AuditEvent
from tests.factories import Tenant, make_channel

pytestmark = pytest.mark.django_db


def _pair(tenant: Tenant) -> dict[str, Any]:
    channel = make_channel(tenant)
    other_channel = make_channel(tenant)
    ws = tenant.workspace
    with workspace_context(ws.pk):
        survivor = Contact.objects.create(workspace=ws, wa_id="4915100000001", name="Ann")
        duplicate = Contact.objects.create(
            workspace=ws,
            wa_id="4915100000002",
            profile_name="Annie",
            email="ann@example.com",
            attributes={"plan": "gold", "seats": 3},
            consent="opted_out",
            consent_source="keyword",
        )
        survivor.attributes = {"seats": 5}
        survivor.save()
        vip, gold = (
            Tag.objects.create(workspace=ws, name="VIP"),
            Tag.objects.create(workspace=ws, name="Gold"),
        )
        for contact, tag in ((survivor, vip), (duplicate, vip), (duplicate, gold)):
            ContactTag.objects.create(workspace=ws, contact=contact, tag=tag)
        ours = Conversation.objects.create(workspace=ws, contact=survivor, channel=channel)
        theirs = Conversation.objects.create(
            workspace=ws, contact=duplicate, channel=channel, unread_count=2
        )
        elsewhere = Conversation.objects.create(
            workspace=ws, contact=duplicate, channel=other_channel
        )
        for conv, text in ((ours, "a"), (theirs, "b"), (theirs, "c"), (elsewhere, "d")):
            Message.objects.create(
                workspace=ws, conversation=conv, direction="in", text=text, status="received"
            )
        Note.objects.create(workspace=ws, conversation=theirs, body="called them")
        ConversationTag.objects.create(workspace=ws, conversation=theirs, tag=gold)
        ContactEvent.objects.create(
            workspace=ws, contact=duplicate, kind="edited", summary="old history", at=timezone.now()
        )
    return {"survivor": survivor, "duplicate": duplicate, "ours": ours, "elsewhere": elsewhere}


def test_merge_moves_everything_and_records_it(tenant_a: Tenant, login: Any) -> None:
    pair = _pair(tenant_a)
    agent: Client = login(tenant_a.agent)
    response = agent.post(
        f"/api/v1/contacts/{pair['survivor'].pk}/merge",
        {"duplicate_id": pair["duplicate"].pk},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    with workspace_context(tenant_a.workspace.pk):
        assert not Contact.objects.filter(pk=pair["duplicate"].pk).exists()
        survivor = Contact.objects.get(pk=pair["survivor"].pk)
        # Blanks filled, the survivor's own values kept, the opt-out wins.
        assert (survivor.name, survivor.profile_name, survivor.email) == (
            "Ann",
            "Annie",
            "ann@example.com",
        )
        assert survivor.attributes == {"plan": "gold", "seats": 5}
        assert survivor.consent == "opted_out"
        assert sorted(
            ContactTag.objects.filter(contact=survivor).values_list("tag__name", flat=True)
        ) == ["Gold", "VIP"]
        # Same channel: one thread with all messages; other channel: moved as is.
        convs = {c.pk: c for c in Conversation.objects.filter(contact=survivor)}
        assert set(convs) == {pair["ours"].pk, pair["elsewhere"].pk}
        assert sorted(
            Message.objects.filter(conversation=pair["ours"]).values_list("text", flat=True)
        ) == ["a", "b", "c"]
        assert convs[pair["ours"].pk].unread_count == 2
        assert Note.objects.get().conversation_id == pair["ours"].pk
        assert ConversationTag.objects.get().conversation_id == pair["ours"].pk
        assert Message.objects.count() == 4
        events = set(ContactEvent.objects.filter(contact=survivor).values_list("kind", "summary"))
        assert ("edited", "old history") in events
        assert any(k == "merged" and "Annie" in s for k, s in events)
        assert AuditEvent.objects.filter(action="contact.merged").count() == 1


def test_merge_refuses_itself_outsiders_and_viewers(
    tenant_a: Tenant, tenant_b: Tenant, login: Any
) -> None:
    pair = _pair(tenant_a)
    other = _pair(tenant_b)
    agent: Client = login(tenant_a.agent)
    url = f"/api/v1/contacts/{pair['survivor'].pk}/merge"
    same = agent.post(url, {"duplicate_id": pair["survivor"].pk}, content_type="application/json")
    assert same.status_code == 400 and same.json()["code"] == "same_contact"
    foreign = agent.post(
        url, {"duplicate_id": other["duplicate"].pk}, content_type="application/json"
    )
    assert foreign.status_code == 404
    viewer: Client = login(tenant_a.viewer)
    refused = viewer.post(
        url, {"duplicate_id": pair["duplicate"].pk}, content_type="application/json"
    )
    assert refused.status_code == 403
    with workspace_context(tenant_b.workspace.pk):
        assert Contact.objects.filter(pk=other["duplicate"].pk).exists()


def test_merge_from_the_page(tenant_a: Tenant, login: Any) -> None:
    pair = _pair(tenant_a)
    agent: Client = login(tenant_a.agent)
    url = f"/w/{tenant_a.workspace.slug}/contacts/{pair['survivor'].pk}/"
    found = agent.get(url, {"merge_q": "annie"}).content.decode()
    assert "Merge into this" in found and "ann@example.com" in found
    done = agent.post(url, {"op": "merge", "duplicate_id": pair["duplicate"].pk}, follow=True)
    assert "was merged into this contact" in done.content.decode()
    assert "merged Annie" in done.content.decode()
