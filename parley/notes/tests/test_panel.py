"""The notes panel on the contact page and in the inbox, its htmx actions,
and the notes timeline source."""

from __future__ import annotations

from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.crm.panels import panels
from parley.crm.timeline import sources
from parley.notes.actions import do_create_note, do_set_pinned
from parley.notes.models import ContactNote
from parley.notes.panels import panel_context
from parley.notes.tests.helpers import handle, make_contact
from tests.factories import Tenant, actor_for, seed_inbox

pytestmark = pytest.mark.django_db


def test_panel_and_timeline_are_registered() -> None:
    assert "notes" in [p.name for p in panels()]
    assert "notes" in sources()


def test_panel_template_renders_on_its_own(tenant_a: Tenant) -> None:
    contact = make_contact(tenant_a)
    actor = actor_for(tenant_a.workspace, tenant_a.agent)
    with workspace_context(tenant_a.workspace.pk):
        note = do_create_note(
            actor=actor, contact=contact, body=f"**Hot** lead {handle(tenant_a.admin)}"
        )
        request = RequestFactory().get("/")
        request.user = tenant_a.agent
        html = render_to_string(
            "notes/_panel.html",
            {
                **panel_context(actor, contact),
                "actor": actor,
                "contact": contact,
                "workspace": tenant_a.workspace,
            },
            request=request,
        )
    assert f'id="note-{note.pk}"' in html
    assert "<strong>Hot</strong>" in html and 'class="mention"' in html
    assert 'name="body"' in html and "data-mentions=" in html
    assert f"/notes/{note.pk}/edit/" in html  # the author may edit


def test_contact_page_shows_the_panel(tenant_a: Tenant, login: Any) -> None:
    contact = make_contact(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        do_create_note(
            actor=actor_for(tenant_a.workspace, tenant_a.owner), contact=contact, body="Loves jazz"
        )
    page = login(tenant_a.viewer).get(f"/w/{tenant_a.workspace.slug}/contacts/{contact.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "data-notes-panel" in html and "Loves jazz" in html
    assert 'name="body"' not in html.split("data-notes-panel")[1]  # viewers read only


def test_inbox_side_panel_shows_the_contacts_notes(tenant_a: Tenant, login: Any) -> None:
    ids = seed_inbox(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        contact = Contact.objects.get(pk=ids["contact_id"])
        do_create_note(
            actor=actor_for(tenant_a.workspace, tenant_a.owner),
            contact=contact,
            body="Gate code 4711",
        )
    page = login(tenant_a.agent).get(
        f"/w/{tenant_a.workspace.slug}/inbox/{ids['conversation_id']}/"
    )
    html = page.content.decode()
    aside = html.split('class="contact-panel"')[1]
    assert "Gate code 4711" in aside and "notes-panel compact" in aside
    assert 'name="panel" value="compact"' in aside


def test_htmx_add_pin_and_delete_rerender_the_panel(tenant_a: Tenant, login: Any) -> None:
    contact = make_contact(tenant_a)
    agent = login(tenant_a.agent)
    slug = tenant_a.workspace.slug
    hx = {"HTTP_HX_REQUEST": "true"}
    added = agent.post(
        f"/w/{slug}/notes/contact/{contact.pk}/add/", {"body": "first", "panel": "1"}, **hx
    )
    assert added.status_code == 200 and "data-notes-panel" in added.content.decode()
    agent.post(f"/w/{slug}/notes/contact/{contact.pk}/add/", {"body": "second", "panel": "1"}, **hx)
    with workspace_context(tenant_a.workspace.pk):
        first = ContactNote.objects.get(body="first")
    pinned = agent.post(
        f"/w/{slug}/notes/{first.pk}/pin/", {"pinned": "1", "panel": "1"}, **hx
    ).content.decode()
    assert pinned.index(">first<") < pinned.index(">second<")  # pinned first
    assert "Unpin" in pinned
    edit_form = agent.get(f"/w/{slug}/notes/{first.pk}/edit/?panel=1", **hx).content.decode()
    assert "<textarea" in edit_form and "first</textarea>" in edit_form
    saved = agent.post(
        f"/w/{slug}/notes/{first.pk}/edit/", {"body": "first, edited", "panel": "1"}, **hx
    ).content.decode()
    assert "first, edited" in saved and "(edited)" in saved
    gone = agent.post(f"/w/{slug}/notes/{first.pk}/delete/", {"panel": "1"}, **hx)
    assert "first, edited" not in gone.content.decode()
    # Without htmx the same actions redirect back where they came from.
    plain = agent.post(
        f"/w/{slug}/notes/contact/{contact.pk}/add/",
        {"body": "third", "next": f"/w/{slug}/notes/?contact={contact.pk}"},
    )
    assert plain.status_code == 302 and plain["Location"].endswith(f"?contact={contact.pk}")
    evil = agent.post(
        f"/w/{slug}/notes/contact/{contact.pk}/add/",
        {"body": "fourth", "next": "https://evil.example/"},
    )
    assert evil.status_code == 302 and "evil" not in evil["Location"]


def test_edit_page_never_links_to_a_foreign_next(tenant_a: Tenant, login: Any) -> None:
    contact = make_contact(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        note = do_create_note(
            actor=actor_for(tenant_a.workspace, tenant_a.agent), contact=contact, body="x"
        )
    page = login(tenant_a.agent).get(
        f"/w/{tenant_a.workspace.slug}/notes/{note.pk}/edit/?next=javascript:alert(1)"
    )
    assert page.status_code == 200
    assert "javascript:" not in page.content.decode()


def test_timeline_source_lists_notes_newest_first(tenant_a: Tenant) -> None:
    contact = make_contact(tenant_a)
    actor = actor_for(tenant_a.workspace, tenant_a.owner)
    with workspace_context(tenant_a.workspace.pk):
        older = do_create_note(actor=actor, contact=contact, body="older")
        newer = do_create_note(actor=actor, contact=contact, body="newer")
        do_set_pinned(actor=actor, note=older, pinned=True)
        entries = sources()["notes"](
            workspace_id=tenant_a.workspace.pk, contact_id=contact.pk, before=None, limit=10
        )
        before = sources()["notes"](
            workspace_id=tenant_a.workspace.pk,
            contact_id=contact.pk,
            before=newer.created_at,
            limit=10,
        )
    assert [e.body for e in entries] == ["newer", "older"]
    assert entries[1].title == f"{tenant_a.owner.display_name} added a pinned note"
    assert entries[0].kind == "note" and entries[0].url == f"#note-{newer.pk}"
    assert [e.body for e in before] == ["older"]
