"""Finding notes: filters, prefix search, pinned-first order, pagination,
and what a page costs in queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.notes.actions import do_create_note, do_set_pinned
from parley.notes.models import ContactNote
from parley.notes.tests.helpers import api, handle, make_contact
from tests.factories import Tenant, actor_for

pytestmark = pytest.mark.django_db


def _seed(tenant: Tenant) -> dict[str, Any]:
    ann = make_contact(tenant, "Ann Customer", "15550001111")
    bob = make_contact(tenant, "Bob Buyer", "15550002222")
    owner = actor_for(tenant.workspace, tenant.owner)
    agent = actor_for(tenant.workspace, tenant.agent)
    base = timezone.now() - timedelta(hours=1)
    specs = [
        ("invoice", ann, owner, "Sent the invoice for March."),
        ("refund", ann, agent, f"Refund approved, {handle(tenant.owner)} please check."),
        ("pinned", ann, owner, "VIP: always call before shipping."),
        ("bob", bob, agent, "Bob asked about invoicing in EUR."),
        ("other", bob, owner, "Nothing to see."),
    ]
    made = {}
    with workspace_context(tenant.workspace.pk):
        for n, (key, contact, actor, body) in enumerate(specs):
            note = do_create_note(actor=actor, contact=contact, body=body)
            ContactNote.objects.filter(pk=note.pk).update(created_at=base + timedelta(minutes=n))
            made[key] = note.pk
        do_set_pinned(actor=owner, note=ContactNote.objects.get(pk=made["pinned"]), pinned=True)
    return {"ann_c": ann, "bob_c": bob, **made}


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [n["id"] for n in response.json()["items"]]


def test_filters(tenant_a: Tenant, login: Any) -> None:
    s = _seed(tenant_a)
    owner = login(tenant_a.owner)
    assert _ids(api(owner, "get", "/notes")) == [
        s["other"], s["bob"], s["pinned"], s["refund"], s["invoice"]
    ]  # fmt: skip
    assert _ids(api(owner, "get", f"/notes?author_id={tenant_a.agent.pk}")) == [
        s["bob"], s["refund"]
    ]  # fmt: skip
    assert _ids(api(owner, "get", "/notes?mentions=me")) == [s["refund"]]
    assert _ids(api(login(tenant_a.agent), "get", "/notes?mentions=me")) == []
    assert _ids(api(owner, "get", "/notes?pinned=true")) == [s["pinned"]]
    assert _ids(api(owner, "get", f"/notes?contact_id={s['bob_c'].pk}")) == [s["other"], s["bob"]]
    bad = api(owner, "get", "/notes?mentions=everyone")
    assert bad.status_code == 400 and bad.json()["field"] == "mentions"


def test_search_matches_word_prefixes_and_needs_every_word(tenant_a: Tenant, login: Any) -> None:
    s = _seed(tenant_a)
    owner = login(tenant_a.owner)
    assert _ids(api(owner, "get", "/notes?q=invoic")) == [s["bob"], s["invoice"]]
    assert _ids(api(owner, "get", "/notes?q=INVOICE march")) == [s["invoice"]]
    assert _ids(api(owner, "get", "/notes?q=refund")) == [s["refund"]]
    assert _ids(api(owner, "get", "/notes?q=zebra")) == []
    # Syntax of to_tsquery cannot be injected: punctuation is dropped, not fatal.
    assert _ids(api(owner, "get", "/notes?q=invoic%20%26%7C!(%3A*")) == [s["bob"], s["invoice"]]
    assert _ids(api(owner, "get", "/notes?q=%26%26%26")) == []


def test_search_walks_the_workspace_index_and_tests_the_stored_vector(
    tenant_a: Tenant,
) -> None:
    """Row-level security keeps @@ (not leakproof) out of index scans, so a
    search must walk the workspace's own index, testing the stored vector
    rather than parsing each body again."""
    from parley.notes.access import NoteFilter, note_list

    contact = make_contact(tenant_a)
    actor = actor_for(tenant_a.workspace, tenant_a.owner)
    with workspace_context(tenant_a.workspace.pk):
        ContactNote.objects.bulk_create(
            ContactNote(
                workspace=tenant_a.workspace,
                contact=contact,
                body=f"routine follow-up number {n}" if n % 500 else "chargeback dispute",
                body_html="",
            )
            for n in range(3000)
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE notes_contactnote")
        qs = note_list(actor, NoteFilter(q="chargeb")).order_by("-created_at", "-id")[:51]
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert len(list(qs)) == 6
    assert "search @@" in plan, plan
    assert "to_tsvector" not in plan, plan


def test_a_contacts_notes_are_pinned_first_and_paginate(tenant_a: Tenant, login: Any) -> None:
    s = _seed(tenant_a)
    owner = login(tenant_a.owner)
    url = f"/contacts/{s['ann_c'].pk}/notes"
    assert _ids(api(owner, "get", url)) == [s["pinned"], s["refund"], s["invoice"]]
    first = api(owner, "get", f"{url}?limit=1")
    assert _ids(first) == [s["pinned"]]
    second = api(owner, "get", f"{url}?limit=1&cursor={first.json()['next_cursor']}")
    assert _ids(second) == [s["refund"]]
    third = api(owner, "get", f"{url}?limit=1&cursor={second.json()['next_cursor']}")
    assert _ids(third) == [s["invoice"]] and third.json()["next_cursor"] is None
    broken = api(owner, "get", f"{url}?cursor=nonsense")
    assert broken.status_code == 400 and broken.json()["code"] == "invalid_cursor"


def test_newest_first_pages_cover_everything_once(tenant_a: Tenant, login: Any) -> None:
    s = _seed(tenant_a)
    owner = login(tenant_a.owner)
    seen: list[int] = []
    cursor = ""
    while True:
        page = api(owner, "get", f"/notes?limit=2{'&cursor=' + cursor if cursor else ''}")
        seen += _ids(page)
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert seen == [s["other"], s["bob"], s["pinned"], s["refund"], s["invoice"]]


def test_notes_page_filters_and_shows_the_contact_form(tenant_a: Tenant, login: Any) -> None:
    s = _seed(tenant_a)
    agent = login(tenant_a.agent)
    slug = tenant_a.workspace.slug
    html = agent.get(f"/w/{slug}/notes/?q=invoic").content.decode()
    assert "Sent the invoice" in html and "Bob asked" in html and "Refund" not in html
    html = agent.get(f"/w/{slug}/notes/?contact={s['ann_c'].pk}").content.decode()
    assert html.index("VIP: always call") < html.index("Refund approved")
    assert 'name="body"' in html  # the add form for this contact
    assert "Bob asked" not in html
    html = login(tenant_a.owner).get(f"/w/{slug}/notes/?mentions=me").content.decode()
    assert "Refund approved" in html and "Sent the invoice" not in html
    html = agent.get(f"/w/{slug}/notes/?pinned=1").content.decode()
    assert "VIP: always call" in html and "Sent the invoice" not in html
    assert agent.get(f"/w/{slug}/notes/?contact=999999").status_code == 404
    assert agent.get(f"/w/{slug}/notes/?cursor=garbage").status_code == 302


def test_list_query_counts_do_not_grow_with_notes(
    tenant_a: Tenant, login: Any, django_assert_max_num_queries: Any
) -> None:
    contacts = [make_contact(tenant_a, f"C{n}", f"1555000{n:04d}") for n in range(12)]
    with workspace_context(tenant_a.workspace.pk):
        for n, contact in enumerate(contacts * 4):
            do_create_note(
                actor=actor_for(tenant_a.workspace, tenant_a.agent if n % 2 else tenant_a.owner),
                contact=contact,
                body=f"note {n} for {handle(tenant_a.admin)}",
            )
    admin = login(tenant_a.admin)
    slug = tenant_a.workspace.slug
    admin.get(f"/w/{slug}/notes/")  # warm the session
    # Session, user, membership, switcher and RLS settings are the fixed part;
    # the page adds its notes, their contacts, its author filter and the
    # bell: 15 in all, however many notes.
    with django_assert_max_num_queries(15):
        page = admin.get(f"/w/{slug}/notes/")
    assert page.content.decode().count('class="note-item') == 48
    # The API's fixed part (session, membership, RLS settings) plus one query
    # for the page of notes with their authors and contacts.
    with django_assert_max_num_queries(12):
        listed = api(admin, "get", "/notes?limit=50")
    assert len(listed.json()["items"]) == 48
    with django_assert_max_num_queries(13):
        panel = api(admin, "get", f"/contacts/{contacts[0].pk}/notes")
    assert len(panel.json()["items"]) == 4
