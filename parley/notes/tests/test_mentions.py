"""@mentions: each newly mentioned member hears of a note once; never the
author, never someone outside the workspace."""

from __future__ import annotations

from typing import Any

import pytest

from parley.core.tenant import workspace_context
from parley.notes.actions import do_create_note, do_edit_note
from parley.notes.mentions import handle_map, workspace_members
from parley.notes.models import ContactNote
from parley.notes.tests.helpers import handle, make_contact
from parley.notifications.models import Notification
from parley.tenancy.roles import Role
from tests.factories import Tenant, actor_for, add_member, make_user

pytestmark = pytest.mark.django_db


def _notified(tenant: Tenant) -> list[tuple[int, str]]:
    with workspace_context(tenant.workspace.pk):
        return sorted(
            Notification.objects.filter(workspace=tenant.workspace, kind="mention").values_list(
                "user_id", "dedupe_key"
            )
        )


def test_create_notifies_each_mentioned_member_once_and_never_the_author(
    tenant_a: Tenant,
) -> None:
    contact = make_contact(tenant_a)
    agent = actor_for(tenant_a.workspace, tenant_a.agent)
    body = (
        f"{handle(tenant_a.admin)} and {handle(tenant_a.viewer)}: the refund. "
        f"Again {handle(tenant_a.admin)}, and a note to self {handle(tenant_a.agent)}."
    )
    with workspace_context(tenant_a.workspace.pk):
        note = do_create_note(actor=agent, contact=contact, body=body)
        stored = ContactNote.objects.get(pk=note.pk)
    assert sorted(stored.mentioned_user_ids) == sorted(
        [tenant_a.admin.pk, tenant_a.viewer.pk, tenant_a.agent.pk]
    )
    assert _notified(tenant_a) == sorted(
        [
            (tenant_a.admin.pk, f"note:{note.pk}:mention:{tenant_a.admin.pk}"),
            (tenant_a.viewer.pk, f"note:{note.pk}:mention:{tenant_a.viewer.pk}"),
        ]
    )
    with workspace_context(tenant_a.workspace.pk):
        sent = Notification.objects.get(user=tenant_a.admin)
    assert sent.title == f"{tenant_a.agent.display_name} mentioned you in a note on Ann Customer"
    assert sent.url.endswith(f"#note-{note.pk}") and sent.url.startswith("/w/alpha")
    assert "the refund" in sent.body
    assert stored.body_html.count('class="mention"') == 4


def test_edit_notifies_only_the_newly_mentioned(tenant_a: Tenant) -> None:
    contact = make_contact(tenant_a)
    agent = actor_for(tenant_a.workspace, tenant_a.agent)
    with workspace_context(tenant_a.workspace.pk):
        note = do_create_note(actor=agent, contact=contact, body=f"hi {handle(tenant_a.admin)}")
        assert len(_notified(tenant_a)) == 1
        do_edit_note(actor=agent, note=note, body=f"hi {handle(tenant_a.admin)} (typo fixed)")
        assert len(_notified(tenant_a)) == 1
        do_edit_note(
            actor=agent,
            note=note,
            body=f"hi {handle(tenant_a.admin)} and {handle(tenant_a.owner)}",
        )
        assert [u for u, _ in _notified(tenant_a)] == sorted([tenant_a.admin.pk, tenant_a.owner.pk])
        # Removing a mention and adding it back does not notify twice.
        do_edit_note(actor=agent, note=note, body=f"hi {handle(tenant_a.owner)}")
        do_edit_note(
            actor=agent,
            note=note,
            body=f"hi {handle(tenant_a.owner)} {handle(tenant_a.admin)}",
        )
        note.refresh_from_db()
    assert len(_notified(tenant_a)) == 2
    assert note.edited_at is not None
    assert sorted(note.mentioned_user_ids) == sorted([tenant_a.owner.pk, tenant_a.admin.pk])


def test_outsiders_are_never_mentioned(tenant_a: Tenant, tenant_b: Tenant) -> None:
    contact = make_contact(tenant_a)
    agent = actor_for(tenant_a.workspace, tenant_a.agent)
    stranger = make_user("stranger@elsewhere.test")
    body = (
        f"ask @{tenant_b.agent.email} or @{tenant_b.owner.email} or {handle(stranger)} or @nobody"
    )
    with workspace_context(tenant_a.workspace.pk):
        note = do_create_note(actor=agent, contact=contact, body=body)
    assert note.mentioned_user_ids == []
    assert 'class="mention"' not in note.body_html
    assert _notified(tenant_a) == []
    with workspace_context(tenant_b.workspace.pk):
        assert not Notification.objects.filter(workspace=tenant_b.workspace).exists()


def test_handles_are_email_local_parts_and_whole_emails_when_they_clash(
    tenant_a: Tenant,
) -> None:
    twin_one = make_user("sam@one.test", name="Sam One")
    twin_two = make_user("sam@two.test", name="Sam Two")
    add_member(tenant_a.workspace, twin_one, Role.AGENT)
    add_member(tenant_a.workspace, twin_two, Role.AGENT)
    with workspace_context(tenant_a.workspace.pk):
        members = {m.user_id: m.handle for m in workspace_members(tenant_a.workspace.pk)}
        handles = handle_map(tenant_a.workspace.pk)
    assert members[tenant_a.agent.pk] == "agent"
    assert members[twin_one.pk] == "sam@one.test"
    assert members[twin_two.pk] == "sam@two.test"
    assert "sam" not in handles  # ambiguous: mentions nobody rather than the wrong Sam
    assert handles["agent@alpha.test"].user_id == tenant_a.agent.pk

    contact = make_contact(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        note = do_create_note(
            actor=actor_for(tenant_a.workspace, tenant_a.owner),
            contact=contact,
            body="@sam@two.test can you call? (not @sam)",
        )
    assert note.mentioned_user_ids == [twin_two.pk]


def test_api_create_and_edit_notify(tenant_a: Tenant, login: Any) -> None:
    from parley.notes.tests.helpers import api

    contact = make_contact(tenant_a)
    agent = login(tenant_a.agent)
    created = api(
        agent, "post", f"/contacts/{contact.pk}/notes", {"body": f"{handle(tenant_a.admin)} hi"}
    )
    assert created.status_code == 201, created.content
    note_id = created.json()["id"]
    assert created.json()["mentioned_user_ids"] == [tenant_a.admin.pk]
    edited = api(agent, "patch", f"/notes/{note_id}", {"body": f"{handle(tenant_a.viewer)} hi"})
    assert edited.status_code == 200
    assert [u for u, _ in _notified(tenant_a)] == sorted([tenant_a.admin.pk, tenant_a.viewer.pk])
