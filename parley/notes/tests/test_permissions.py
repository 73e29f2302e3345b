"""Who may do what with notes: viewers read, agents write and change their
own, admins change anyone's."""

from __future__ import annotations

from typing import Any

import pytest

from parley.core.tenant import workspace_context
from parley.notes.actions import do_create_note
from parley.notes.models import BODY_MAX, ContactNote
from parley.notes.tests.helpers import api, make_contact
from parley.tenancy.roles import Role
from tests.factories import Tenant, actor_for, add_member, make_user

pytestmark = pytest.mark.django_db


def _note_by(tenant: Tenant, user: Any, body: str = "Prefers calls after 5pm") -> ContactNote:
    contact = make_contact(tenant)
    with workspace_context(tenant.workspace.pk):
        return do_create_note(actor=actor_for(tenant.workspace, user), contact=contact, body=body)


def test_author_edits_pins_and_deletes_their_own_note(tenant_a: Tenant, login: Any) -> None:
    note = _note_by(tenant_a, tenant_a.agent)
    agent = login(tenant_a.agent)
    edited = api(agent, "patch", f"/notes/{note.pk}", {"body": "Prefers **calls**"})
    assert edited.status_code == 200
    assert edited.json()["body_html"] == "<p>Prefers <strong>calls</strong></p>\n"
    assert edited.json()["edited_at"] is not None
    assert api(agent, "post", f"/notes/{note.pk}/pin").json()["pinned"] is True
    assert api(agent, "post", f"/notes/{note.pk}/unpin").json()["pinned"] is False
    assert api(agent, "delete", f"/notes/{note.pk}").status_code == 204
    assert api(agent, "get", f"/notes/{note.pk}").status_code == 404


def test_another_agent_cannot_change_someone_elses_note(tenant_a: Tenant, login: Any) -> None:
    note = _note_by(tenant_a, tenant_a.owner)
    agent = login(tenant_a.agent)
    for method, url, body in [
        ("patch", f"/notes/{note.pk}", {"body": "mine now"}),
        ("post", f"/notes/{note.pk}/pin", None),
        ("delete", f"/notes/{note.pk}", None),
    ]:
        refused = api(agent, method, url, body)
        assert refused.status_code == 403, (method, url)
        assert "author or an admin" in refused.json()["message"]
    # ... but can read it.
    assert api(agent, "get", f"/notes/{note.pk}").json()["body"] == "Prefers calls after 5pm"
    # The pages refuse too, with the same message.
    page = agent.post(f"/w/{tenant_a.workspace.slug}/notes/{note.pk}/delete/")
    assert page.status_code == 403
    edit_form = agent.get(f"/w/{tenant_a.workspace.slug}/notes/{note.pk}/edit/")
    assert edit_form.status_code == 403
    with workspace_context(tenant_a.workspace.pk):
        assert ContactNote.objects.get(pk=note.pk).body == "Prefers calls after 5pm"


def test_admin_changes_anyones_note(tenant_a: Tenant, login: Any) -> None:
    note = _note_by(tenant_a, tenant_a.agent)
    admin = login(tenant_a.admin)
    assert api(admin, "patch", f"/notes/{note.pk}", {"body": "tidied"}).status_code == 200
    assert api(admin, "post", f"/notes/{note.pk}/pin").json()["pinned"] is True
    assert api(admin, "delete", f"/notes/{note.pk}").status_code == 204


def test_viewer_reads_only(tenant_a: Tenant, login: Any) -> None:
    note = _note_by(tenant_a, tenant_a.agent)
    viewer = login(tenant_a.viewer)
    listed = api(viewer, "get", f"/contacts/{note.contact_id}/notes")
    assert [n["id"] for n in listed.json()["items"]] == [note.pk]
    assert api(viewer, "post", f"/contacts/{note.contact_id}/notes", {"body": "x"}).status_code == (
        403
    )
    assert api(viewer, "patch", f"/notes/{note.pk}", {"body": "x"}).status_code == 403
    slug = tenant_a.workspace.slug
    page = viewer.get(f"/w/{slug}/notes/?contact={note.contact_id}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Prefers calls after 5pm" in html
    assert 'name="body"' not in html and ">Edit<" not in html and ">Delete<" not in html
    add = viewer.post(f"/w/{slug}/notes/contact/{note.contact_id}/add/", {"body": "x"})
    assert add.status_code == 403


def test_an_admin_who_is_the_author_of_nothing_sees_the_buttons(
    tenant_a: Tenant, login: Any
) -> None:
    note = _note_by(tenant_a, tenant_a.agent)
    other_agent = make_user("other@alpha.test")
    add_member(tenant_a.workspace, other_agent, Role.AGENT)
    url = f"/w/{tenant_a.workspace.slug}/notes/"
    admin_html = login(tenant_a.admin).get(url).content.decode()
    other_html = login(other_agent).get(url).content.decode()
    author_html = login(tenant_a.agent).get(url).content.decode()
    assert f"/notes/{note.pk}/edit/" in admin_html
    assert f"/notes/{note.pk}/edit/" in author_html
    assert f"/notes/{note.pk}/edit/" not in other_html


def test_bad_bodies_are_refused_with_a_reason(tenant_a: Tenant, login: Any) -> None:
    contact = make_contact(tenant_a)
    agent = login(tenant_a.agent)
    empty = api(agent, "post", f"/contacts/{contact.pk}/notes", {"body": "   "})
    assert empty.status_code == 400
    assert empty.json() == {"code": "required", "message": "Write the note first.", "field": "body"}
    long = api(agent, "post", f"/contacts/{contact.pk}/notes", {"body": "x" * (BODY_MAX + 1)})
    assert long.status_code == 400 and long.json()["code"] == "too_long"
    assert "10,000" in long.json()["message"] and "10,001" in long.json()["message"]
    missing = api(agent, "post", f"/contacts/{contact.pk}/notes", {})
    # (core.api_errors drops a field *named* "body" from the location: reported.)
    assert missing.status_code == 422 and missing.json()["code"] == "invalid"
    # The page keeps the draft and says what is wrong (htmx panel).
    slug = tenant_a.workspace.slug
    page = agent.post(
        f"/w/{slug}/notes/contact/{contact.pk}/add/",
        {"body": "x" * (BODY_MAX + 1), "panel": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert page.status_code == 200
    assert "holds up to 10,000 characters" in page.content.decode()


def test_api_tokens_write_notes_in_their_own_name(tenant_a: Tenant, client: Any) -> None:
    contact = make_contact(tenant_a)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tenant_a.raw_token}"}
    created = client.post(
        f"/api/v1/contacts/{contact.pk}/notes",
        {"body": "Synced from the ERP"},
        content_type="application/json",
        **auth,
    )
    assert created.status_code == 201
    assert created.json()["author_id"] is None
    assert created.json()["author_name"] == "API token test token"
    mine = client.get("/api/v1/notes?mentions=me", **auth)
    assert mine.status_code == 400 and mine.json()["field"] == "mentions"
