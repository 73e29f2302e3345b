"""The inbox pages as a member sees them (the worker is not running here:
sends stay queued; tests/test_message_path.py runs the whole path)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.inbox.models import Conversation, Message, Note, QuickReply
from tests.factories import Tenant, seed_inbox

pytestmark = pytest.mark.django_db


def test_inbox_list_thread_and_reply(tenant_a: Tenant, login: Any) -> None:
    ids = seed_inbox(tenant_a)
    slug, conv = tenant_a.workspace.slug, ids["conversation_id"]
    agent: Client = login(tenant_a.agent)
    page = agent.get(f"/w/{slug}/inbox/?status=all").content.decode()
    assert "Ann Customer" in page
    thread = agent.get(f"/w/{slug}/inbox/{conv}/").content.decode()
    assert "hi there" in thread and "data-composer" in thread
    agent.post(f"/w/{slug}/inbox/{conv}/send/", {"text": "Hello Ann"})
    agent.post(f"/w/{slug}/inbox/{conv}/send/", {"text": "/hello"})  # quick reply
    with workspace_context(tenant_a.workspace.pk):
        sent = list(
            Message.objects.filter(direction="out").order_by("id").values_list("text", "status")
        )
    assert sent == [("Hello Ann", "queued"), ("Hello Ann", "queued")]  # "Hello {{first_name}}"
    assert "Hello Ann" in agent.get(f"/w/{slug}/inbox/{conv}/thread/").content.decode()


def test_assign_status_snooze_and_notes(tenant_a: Tenant, login: Any) -> None:
    ids = seed_inbox(tenant_a)
    slug, conv = tenant_a.workspace.slug, ids["conversation_id"]
    agent: Client = login(tenant_a.agent)
    agent.post(f"/w/{slug}/inbox/{conv}/assign/", {"assignee": "me"})
    agent.post(f"/w/{slug}/inbox/{conv}/status/", {"status": "snoozed", "snooze": "4h"})
    agent.post(f"/w/{slug}/inbox/{conv}/note/", {"body": "@admin please check the refund"})
    with workspace_context(tenant_a.workspace.pk):
        c = Conversation.objects.get(pk=conv)
        note = Note.objects.get()
    assert c.assignee_id == tenant_a.agent.pk and c.status == "snoozed"
    assert c.snoozed_until is not None and c.snoozed_until > timezone.now()
    assert note.mentions == [tenant_a.admin.pk]
    mine = agent.get(f"/w/{slug}/inbox/list/?view=mine&status=snoozed").content.decode()
    assert "Ann Customer" in mine
    assert (
        "Ann Customer"
        not in agent.get(f"/w/{slug}/inbox/list/?view=unassigned&status=all").content.decode()
    )


def test_closed_window_offers_templates_and_refuses_text(tenant_a: Tenant, login: Any) -> None:
    ids = seed_inbox(tenant_a)
    slug, conv = tenant_a.workspace.slug, ids["conversation_id"]
    with workspace_context(tenant_a.workspace.pk):
        Conversation.objects.filter(pk=conv).update(
            last_inbound_at=timezone.now() - timedelta(hours=25)
        )
    agent: Client = login(tenant_a.agent)
    page = agent.get(f"/w/{slug}/inbox/{conv}/").content.decode()
    assert "template-picker" in page and "data-composer" not in page
    api = agent.post(
        f"/api/v1/conversations/{conv}/messages",
        {"type": "text", "text": "hi"},
        content_type="application/json",
    )
    assert api.status_code == 422 and api.json()["code"] == "window_closed"
    ok = agent.post(
        f"/api/v1/conversations/{conv}/messages",
        {"type": "template", "template_name": "order_update", "parameters": ["Ann"]},
        content_type="application/json",
    )
    assert ok.status_code == 201 and ok.json()["status"] == "queued"


def test_viewers_read_but_do_not_send(tenant_a: Tenant, login: Any) -> None:
    ids = seed_inbox(tenant_a)
    slug, conv = tenant_a.workspace.slug, ids["conversation_id"]
    viewer: Client = login(tenant_a.viewer)
    assert viewer.get(f"/w/{slug}/inbox/{conv}/").status_code == 200
    assert viewer.post(f"/w/{slug}/inbox/{conv}/send/", {"text": "x"}).status_code == 403
    r = viewer.post(
        f"/api/v1/conversations/{conv}/messages",
        {"type": "text", "text": "x"},
        content_type="application/json",
    )
    assert r.status_code == 403


def test_quota_refuses_beyond_the_month(tenant_a: Tenant, login: Any) -> None:
    ids = seed_inbox(tenant_a)
    tenant_a.workspace.monthly_message_quota = 2
    tenant_a.workspace.save(update_fields=["monthly_message_quota"])
    agent: Client = login(tenant_a.agent)
    url = f"/api/v1/conversations/{ids['conversation_id']}/messages"
    codes = [
        agent.post(
            url, {"type": "text", "text": f"m{i}"}, content_type="application/json"
        ).status_code
        for i in range(3)
    ]
    assert codes == [201, 201, 400]
    refused = agent.post(
        url, {"type": "text", "text": "more"}, content_type="application/json"
    ).json()
    assert refused["code"] == "quota_exceeded" and "2 messages" in refused["message"]
    page = agent.get(f"/w/{tenant_a.workspace.slug}/inbox/").content.decode()
    assert "used its monthly message quota" in page


def test_quick_replies_crud(tenant_a: Tenant, login: Any) -> None:
    agent: Client = login(tenant_a.agent)
    slug = tenant_a.workspace.slug
    agent.post(
        f"/w/{slug}/quick-replies/",
        {"shortcut": "/Thanks", "title": "Thanks", "body": "Thanks {{name}}!"},
    )
    with workspace_context(tenant_a.workspace.pk):
        qr = QuickReply.objects.get()
    assert qr.shortcut == "thanks"
    dup = agent.post(f"/w/{slug}/quick-replies/", {"shortcut": "thanks", "body": "again"})
    assert b"is taken" in dup.content
    agent.post(f"/w/{slug}/quick-replies/{qr.pk}/", {"shortcut": "ty", "title": "", "body": "Ty"})
    api = agent.get("/api/v1/quick-replies").json()
    assert [r["shortcut"] for r in api] == ["ty"]
    agent.post(f"/w/{slug}/quick-replies/{qr.pk}/", {"delete": "1"})
    assert agent.get("/api/v1/quick-replies").json() == []


def test_reply_quoting_and_buttons_from_the_composer(tenant_a: Tenant, login: Any) -> None:
    ids = seed_inbox(tenant_a)
    slug, conv = tenant_a.workspace.slug, ids["conversation_id"]
    agent: Client = login(tenant_a.agent)
    page = agent.get(f"/w/{slug}/inbox/{conv}/").content.decode()
    assert f'data-reply="{ids["message_id"]}"' in page
    agent.post(
        f"/w/{slug}/inbox/{conv}/send/", {"text": "Quoting you", "reply_to": ids["message_id"]}
    )
    agent.post(
        f"/w/{slug}/inbox/{conv}/buttons/",
        {"body": "Was this helpful?", "buttons": ["Yes", "No", ""]},
    )
    refused = agent.post(
        f"/w/{slug}/inbox/{conv}/buttons/",
        {"body": "Too long?", "buttons": ["x" * 21]},
        follow=True,
    )
    assert "at most 20 characters" in refused.content.decode()
    with workspace_context(tenant_a.workspace.pk):
        quoted, buttons = Message.objects.filter(direction="out").order_by("id")
    assert quoted.reply_to_id == int(ids["message_id"])
    assert quoted.payload["context"] == {"message_id": "wamid.seed"}
    titles = [b["reply"]["title"] for b in buttons.payload["interactive"]["action"]["buttons"]]
    assert titles == ["Yes", "No"]


def test_a_refused_action_says_why_in_the_refreshed_thread(tenant_a: Tenant, login: Any) -> None:
    ids = seed_inbox(tenant_a)
    agent: Client = login(tenant_a.agent)
    url = f"/w/{tenant_a.workspace.slug}/inbox/{ids['conversation_id']}/note/"
    response = agent.post(url, {"body": "   "}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Write the note first." in response.content.decode()


def test_the_thread_costs_the_same_queries_however_many_quotes(
    tenant_a: Tenant, login: Any, django_assert_max_num_queries: Any
) -> None:
    ids = seed_inbox(tenant_a)
    agent: Client = login(tenant_a.agent)
    url = f"/w/{tenant_a.workspace.slug}/inbox/{ids['conversation_id']}/thread/"
    with workspace_context(tenant_a.workspace.pk):
        conversation = Conversation.objects.get(pk=ids["conversation_id"])
        quoted = Message.objects.get(pk=ids["message_id"])
        for n in range(30):
            Message.objects.create(
                workspace=tenant_a.workspace,
                conversation=conversation,
                direction="in",
                wamid=f"wamid.q{n}",
                text=f"quote {n}",
                status="received",
                reply_to=quoted,
            )
    agent.get(url)  # warm the session and caches
    with django_assert_max_num_queries(20):
        page = agent.get(url)
    assert page.content.decode().count('class="quote small"') == 30
