"""Members, roles and invitations, through pages and actions."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client

from parley.core.errors import Conflict
from parley.core.tenant import workspace_context
from parley.tenancy import actions
from parley.tenancy.models import AuditEvent, Membership
from parley.tenancy.roles import CAPABILITIES, Cap, Role
from tests.factories import Tenant, actor_for, make_user

pytestmark = pytest.mark.django_db


def _invite_link(tenant: Tenant, email: str, role: str = "agent") -> str:
    with workspace_context(tenant.workspace.pk), pytest.MonkeyPatch.context():
        _inv, raw = actions.do_invite(
            actor=actor_for(tenant.workspace, tenant.owner), email=email, role=role
        )
    return f"/invite/{raw}/"


def test_role_map_is_nested() -> None:
    assert CAPABILITIES[Role.VIEWER] < CAPABILITIES[Role.AGENT] < CAPABILITIES[Role.ADMIN]
    assert CAPABILITIES[Role.ADMIN] < CAPABILITIES[Role.OWNER]
    assert Cap.CONVERSATIONS_WORK not in CAPABILITIES[Role.VIEWER]
    assert Cap.MEMBERS_READ not in CAPABILITIES[Role.AGENT]
    assert Cap.WORKSPACE_DELETE not in CAPABILITIES[Role.ADMIN]


@pytest.mark.parametrize(
    ("who", "members_page", "settings_post"),
    [("owner", 200, 302), ("admin", 200, 302), ("agent", 403, 403), ("viewer", 403, 403)],
)
def test_pages_follow_the_role_map(
    tenant_a: Tenant, login: Any, who: str, members_page: int, settings_post: int
) -> None:
    client: Client = login(getattr(tenant_a, who))
    slug = tenant_a.workspace.slug
    assert client.get(f"/w/{slug}/").status_code == 200
    assert client.get(f"/w/{slug}/members/").status_code == members_page
    response = client.post(
        f"/w/{slug}/settings/",
        {"name": "Renamed", "timezone": "Europe/Berlin", "default_country": "DE"},
    )
    assert response.status_code == settings_post


def test_invitation_for_a_new_person(
    tenant_a: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    admin = Client()
    admin.force_login(tenant_a.admin, backend="django.contrib.auth.backends.ModelBackend")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            f"/w/{tenant_a.workspace.slug}/members/",
            {"email": "New.Person@Example.test", "role": "agent"},
        )
    assert response.status_code == 200
    [message] = mail.outbox
    assert message.to == ["new.person@example.test"]
    link = re.search(r"http://[^\s]+/invite/[^\s]+/", str(message.body))
    assert link is not None
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]
    guest = Client()
    page = guest.get(f"/{path}")
    assert page.status_code == 200 and b"Join Alpha Corp" in page.content
    response = guest.post(f"/{path}", {"name": "New Person", "password": "a-long-enough-pass-7"})
    assert response.status_code == 302 and response["Location"] == f"/w/{tenant_a.workspace.slug}/"
    with workspace_context(tenant_a.workspace.pk):
        member = Membership.objects.get(user__email="new.person@example.test")
        assert member.role == Role.AGENT
    # The link works once.
    assert Client().get(f"/{path}").status_code == 404


def test_invitation_for_an_existing_user_in_another_workspace(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    link = _invite_link(tenant_a, tenant_b.owner.email, role="viewer")
    client = Client()
    client.force_login(tenant_b.owner, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(link)
    assert response.status_code == 302
    # Now a member of both, switching between them.
    assert client.get(f"/w/{tenant_a.workspace.slug}/").status_code == 200
    assert client.get(f"/w/{tenant_b.workspace.slug}/").status_code == 200
    me = client.get("/api/v1/me/workspaces", HTTP_X_PARLEY_WORKSPACE=tenant_b.workspace.slug).json()
    assert {w["slug"]: w["role"] for w in me} == {
        tenant_a.workspace.slug: "viewer",
        tenant_b.workspace.slug: "owner",
    }


def test_invitation_cannot_be_taken_by_another_account(tenant_a: Tenant) -> None:
    link = _invite_link(tenant_a, "someone@example.test")
    stranger = make_user("stranger@example.test")
    client = Client()
    client.force_login(stranger, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(link)
    assert response.status_code == 200
    assert b"This invitation is for someone@example.test" in response.content
    with workspace_context(tenant_a.workspace.pk):
        assert not Membership.objects.filter(user=stranger).exists()


def test_revoked_invitation_is_dead(tenant_a: Tenant) -> None:
    with workspace_context(tenant_a.workspace.pk):
        actor = actor_for(tenant_a.workspace, tenant_a.owner)
        invitation, raw = actions.do_invite(actor=actor, email="late@example.test", role="agent")
        actions.do_revoke_invitation(actor=actor, invitation=invitation)
    assert Client().get(f"/invite/{raw}/").status_code == 404


def test_the_last_owner_cannot_be_demoted_removed_or_leave(tenant_a: Tenant) -> None:
    with workspace_context(tenant_a.workspace.pk):
        owner = actor_for(tenant_a.workspace, tenant_a.owner)
        me = tenant_a.member(tenant_a.owner)
        with pytest.raises(Conflict, match="at least one owner"):
            actions.do_change_role(actor=owner, member=me, role=Role.ADMIN)
        with pytest.raises(Conflict):
            actions.do_remove_member(actor=owner, member=me)
        with pytest.raises(Conflict, match="last owner"):
            actions.do_leave_workspace(actor=owner)
        # With a second owner, the first may step down.
        actions.do_change_role(actor=owner, member=tenant_a.member(tenant_a.admin), role=Role.OWNER)
        actions.do_change_role(actor=owner, member=me, role=Role.ADMIN)
        assert Membership.objects.filter(workspace=tenant_a.workspace, role=Role.OWNER).count() == 1


def test_admins_cannot_touch_owners(tenant_a: Tenant) -> None:
    with workspace_context(tenant_a.workspace.pk):
        admin = actor_for(tenant_a.workspace, tenant_a.admin)
        with pytest.raises(PermissionDenied):
            actions.do_change_role(
                actor=admin, member=tenant_a.member(tenant_a.owner), role=Role.AGENT
            )
        with pytest.raises(PermissionDenied):
            actions.do_change_role(
                actor=admin, member=tenant_a.member(tenant_a.agent), role=Role.OWNER
            )
        with pytest.raises(PermissionDenied):
            actions.do_invite(actor=admin, email="boss@example.test", role=Role.OWNER)
        actions.do_change_role(
            actor=admin, member=tenant_a.member(tenant_a.agent), role=Role.VIEWER
        )
        assert AuditEvent.objects.filter(action="member.role_changed").count() == 1


def test_role_change_and_removal_through_the_page(tenant_a: Tenant, login: Any) -> None:
    client: Client = login(tenant_a.owner)
    slug = tenant_a.workspace.slug
    agent = tenant_a.member(tenant_a.agent)
    client.post(f"/w/{slug}/members/{agent.pk}/role/", {"role": "admin"})
    assert tenant_a.member(tenant_a.agent).role == Role.ADMIN
    client.post(f"/w/{slug}/members/{agent.pk}/remove/")
    with workspace_context(tenant_a.workspace.pk):
        assert not Membership.objects.filter(pk=agent.pk).exists()
    # The removed person is now an outsider.
    assert login(tenant_a.agent).get(f"/w/{slug}/").status_code == 404


def test_owner_deletes_the_workspace_with_confirmation(tenant_a: Tenant, login: Any) -> None:
    client: Client = login(tenant_a.owner)
    slug = tenant_a.workspace.slug
    client.post(f"/w/{slug}/delete/", {"confirm_name": "wrong"})
    assert client.get(f"/w/{slug}/").status_code == 200
    assert (
        login(tenant_a.admin).post(f"/w/{slug}/delete/", {"confirm_name": "Alpha Corp"}).status_code
        == 403
    )
    client.post(f"/w/{slug}/delete/", {"confirm_name": "Alpha Corp"})
    assert client.get(f"/w/{slug}/").status_code == 404


def test_settings_reject_bad_values_with_form_errors(tenant_a: Tenant, login: Any) -> None:
    client: Client = login(tenant_a.owner)
    response = client.post(
        f"/w/{tenant_a.workspace.slug}/settings/",
        {"name": "Alpha", "timezone": "Mars/Olympus", "default_country": "ZZ"},
    )
    assert response.status_code == 200
    assert b"Mars/Olympus" in response.content  # the choice error names the value


def test_only_owners_change_the_plan(tenant_a: Tenant, login: Any) -> None:
    slug = tenant_a.workspace.slug
    assert login(tenant_a.admin).get(f"/w/{slug}/billing/").status_code == 403
    owner: Client = login(tenant_a.owner)
    assert owner.get(f"/w/{slug}/billing/").status_code == 200
    owner.post(f"/w/{slug}/billing/", {"plan": "growth"})
    tenant_a.workspace.refresh_from_db()
    assert (tenant_a.workspace.plan, tenant_a.workspace.monthly_message_quota) == (
        "growth",
        250_000,
    )
    owner.post(f"/w/{slug}/billing/", {"plan": "free-forever"})
    tenant_a.workspace.refresh_from_db()
    assert tenant_a.workspace.plan == "growth"


def test_the_operator_overrides_a_quota(tenant_a: Tenant, login: Any) -> None:
    url = f"/ops/workspaces/{tenant_a.workspace.pk}/quota/"
    assert login(tenant_a.owner).post(url, {"quota": "5"}).status_code == 404
    operator: Client = login(make_user("root@ops.test", is_staff=True))
    assert operator.post(url, {"quota": "not a number"}).status_code == 302
    operator.post(url, {"quota": "123456"})
    tenant_a.workspace.refresh_from_db()
    assert tenant_a.workspace.monthly_message_quota == 123456
    with workspace_context(tenant_a.workspace.pk):
        assert AuditEvent.objects.filter(action="workspace.quota_overridden").count() == 1
