"""One search box: contacts, messages, notes and deals, grouped; saved
searches are private; the indexes are the ones the queries use."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from parley.core.models import SearchTerm
from parley.core.tenant import workspace_context
from parley.core.terms import query_words
from parley.crm.models import Contact
from parley.crm.search import search_contacts
from parley.deals.models import Deal, Pipeline, Stage
from parley.inbox.models import Conversation, Message
from parley.inbox.search import search_messages
from parley.notes.models import ContactNote
from parley.search.models import SavedSearch
from tests.factories import Tenant, make_channel

pytestmark = pytest.mark.django_db


def _world(tenant: Tenant) -> dict[str, Any]:
    channel = make_channel(tenant)
    ws = tenant.workspace
    with workspace_context(ws.pk):
        ana = Contact.objects.create(
            workspace=ws,
            wa_id="4915123456701",
            phone_e164="+4915123456701",
            name="Ana Souza",
            email="ana@shop.example",
            attributes={"city": "Lisbon"},
        )
        bob = Contact.objects.create(workspace=ws, wa_id="4915123456702", name="Bob Stone")
        conv = Conversation.objects.create(workspace=ws, contact=ana, channel=channel)
        for direction, text in (
            ("in", "Where is my parcel? The delivery is late"),
            ("out", "Sorry about the late delivery, it ships today"),
            ("in", "Thanks a lot"),
        ):
            Message.objects.create(
                workspace=ws, conversation=conv, direction=direction, text=text, status="received"
            )
        ContactNote.objects.create(
            workspace=ws, contact=bob, body="Prefers calls after 5pm", body_html=""
        )
        pipeline = Pipeline.objects.create(workspace=ws, name="Sales")
        stage = Stage.objects.create(workspace=ws, pipeline=pipeline, name="New")
        Deal.objects.create(
            workspace=ws, title="Lisbon store rollout", contact=ana, pipeline=pipeline, stage=stage
        )
    return {"ana": ana, "bob": bob, "conv": conv}


def test_one_box_finds_every_kind(tenant_a: Tenant, tenant_b: Tenant, login: Any) -> None:
    _world(tenant_a)
    _world(tenant_b)  # the same words in another workspace must not show up
    agent: Client = login(tenant_a.agent)

    def found(**params: str) -> dict[str, list[str]]:
        body = agent.get("/api/v1/search", params).json()
        return {k: [h["title"] for h in v] for k, v in body.items() if isinstance(v, list)}

    assert found(q="lisbon") == {
        "contacts": ["Ana Souza"],  # by attribute value
        "messages": [],
        "notes": [],
        "deals": ["Lisbon store rollout"],
    }
    assert found(q="+49 151 2345 6702")["contacts"] == ["Bob Stone"]  # a number as typed
    assert found(q="shop.example")["contacts"] == ["Ana Souza"]  # email
    # Full text: every word, the last as a prefix, newest first.
    assert found(q="late deliv", kind="messages") == {
        "messages": ["Ana Souza (reply)", "Ana Souza wrote"]
    }
    assert found(q="late", kind="messages", direction="in") == {"messages": ["Ana Souza wrote"]}
    assert found(q="calls", kind="notes") == {"notes": ["Note on Bob Stone"]}
    bad = agent.get("/api/v1/search", {"q": "x"})
    assert bad.status_code == 400 and bad.json()["field"] == "q"
    assert agent.get("/api/v1/search", {"q": "late", "kind": "spam"}).status_code == 400


def test_search_page_highlights_and_saves(tenant_a: Tenant, login: Any) -> None:
    _world(tenant_a)
    agent: Client = login(tenant_a.agent)
    url = f"/w/{tenant_a.workspace.slug}/search/"
    page = agent.get(url, {"q": "parcel"}).content.decode()
    assert "<mark>parcel</mark>" in page and "/inbox/" in page
    hostile = agent.get(url, {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in hostile
    agent.post(url, {"q": "late", "kind": "messages", "name": "Late ones"})
    with workspace_context(tenant_a.workspace.pk):
        saved = SavedSearch.objects.get()
    assert (saved.q, saved.kind, saved.user_id) == ("late", "messages", tenant_a.agent.pk)
    assert "Late ones" in agent.get(url).content.decode()
    # Private: a colleague neither sees nor deletes it.
    colleague: Client = login(tenant_a.admin)
    assert "Late ones" not in colleague.get(url).content.decode()
    assert colleague.get("/api/v1/saved-searches").json() == []
    assert colleague.delete(f"/api/v1/saved-searches/{saved.pk}").status_code == 404
    assert agent.delete(f"/api/v1/saved-searches/{saved.pk}").status_code == 204


def test_queries_use_the_word_index(tenant_a: Tenant) -> None:
    """Under FORCE RLS only leakproof operators may be index conditions; the
    word index is searched with text comparisons, so the plan uses it."""
    world = _world(tenant_a)
    ws = tenant_a.workspace.pk
    with workspace_context(ws), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inbox_message (workspace_id, conversation_id, direction, type, text,"
            " payload, status, error_reason, idempotency_key, attempts, created_at)"
            " SELECT %s, %s, 'in', 'text', 'filler words number ' || g, '{}', 'received', '',"
            " gen_random_uuid(), 0, now() FROM generate_series(1, 5000) g",
            [ws, world["conv"].pk],
        )
        # A table this small may be cheaper to scan than to probe, and which one the
        # planner picks then depends on the statistics of the moment. What this test
        # guards is that the word comparisons *can* be index conditions under RLS;
        # with sequential scans priced out, a non-leakproof operator would still
        # force a filter over a scan, and the assertions below would fail.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("ANALYZE core_searchterm")
        cursor.execute("ANALYZE inbox_message")
        plans = []
        # One common word: its newest rows straight off the key, newest first.
        newest = list(Message.objects.filter(text__startswith="filler").order_by("-id")[:3])
        assert list(search_messages(ws, "fill").order_by("-id")[:3]) == newest
        for q in ("deliv", "filler", "filler words", "parcel late"):  # rare, common, both
            with CaptureQueriesContext(connection) as captured:
                list(search_messages(ws, q).order_by("-id")[:5])
            for query in captured.captured_queries:
                if "core_searchterm" in query["sql"]:
                    cursor.execute("EXPLAIN " + query["sql"])
                    plans.append("\n".join(row[0] for row in cursor.fetchall()))
    assert len(plans) >= 6
    for plan in plans:
        assert "core_searchterm_pkey" in plan, plan
        assert "Seq Scan on core_searchterm" not in plan, plan
        assert any("Index Cond" in line and "term " in line for line in plan.splitlines()), plan


def test_word_index_follows_edits_and_deletes(tenant_a: Tenant) -> None:
    world = _world(tenant_a)
    ws = tenant_a.workspace.pk
    with workspace_context(ws):
        ana = world["ana"]
        ana.name = "Ana Pereira"
        ana.save(update_fields=["name"])
        assert list(search_contacts(ws, "pereira")) == [ana]
        assert not search_contacts(ws, "souza").exists()
        ana.last_inbound_at = ana.created_at  # not searchable: the words stay as they are
        ana.save(update_fields=["last_inbound_at"])
        assert list(search_contacts(ws, "pereira")) == [ana]
        # A number typed the national way, with the workspace's country (DE).
        assert list(search_contacts(ws, "0151 2345 6701", default_country="DE")) == [ana]
        assert not search_contacts(ws, "0151 2345 6701", default_country="PT").exists()
        Message.objects.filter(conversation=world["conv"]).delete()
        assert not search_messages(ws, "parcel").exists()
        assert not SearchTerm.objects.filter(kind=SearchTerm.Kind.MESSAGE).exists()


def test_query_words() -> None:
    assert query_words("Parcel? late-delivery") == ["parcel", "late-delivery"]
    assert query_words("+49 (151) 234-567") == ["49151234567"]
    assert query_words("0151 234") == ["151234"]
    assert query_words("'); DROP TABLE x; --") == ["drop", "table", "x", "--"]
    assert query_words("!!!") == []
