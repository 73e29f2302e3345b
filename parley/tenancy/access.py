"""Every fetch by id of tenancy objects. Missing and foreign look the same: 404."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django.http import Http404

from parley.core.tenant import activate_workspace, dangerously_cross_tenant
from parley.tenancy.actor import Actor
from parley.tenancy.models import Invitation, Membership, Workspace

if TYPE_CHECKING:
    from parley.accounts.models import User


def enter_workspace(user: User, slug: str) -> Actor:
    """Resolve the user's membership in the workspace ``slug`` and make the
    current transaction see that workspace."""
    membership = (
        Membership.objects.select_related("workspace")
        .filter(user=user, workspace__slug=slug)
        .first()
    )
    if membership is None:
        raise Http404("No such workspace.")
    activate_workspace(membership.workspace_id)
    return Actor(workspace=membership.workspace, role=membership.role, user=user)


def enter_workspace_by_id(user: User, workspace_id: int) -> Actor:
    membership = (
        Membership.objects.select_related("workspace")
        .filter(user=user, workspace_id=workspace_id)
        .first()
    )
    if membership is None:
        raise Http404("No such workspace.")
    activate_workspace(membership.workspace_id)
    return Actor(workspace=membership.workspace, role=membership.role, user=user)


def user_memberships(user: User) -> list[Membership]:
    """The user's own memberships across workspaces (visible by RLS policy)."""
    return list(
        Membership.objects.select_related("workspace").filter(user=user).order_by("workspace__name")
    )


def access_member(actor: Actor, member_id: int) -> Membership:
    member = (
        Membership.objects.select_related("user")
        .filter(workspace=actor.workspace, id=member_id)
        .first()
    )
    if member is None:
        raise Http404("No such member.")
    return member


def access_invitation(actor: Actor, invitation_id: int) -> Invitation:
    invitation = Invitation.objects.filter(workspace=actor.workspace, id=invitation_id).first()
    if invitation is None:
        raise Http404("No such invitation.")
    return invitation


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def invitation_by_token(raw_token: str) -> Invitation | None:
    """The invitation a link points to, whatever workspace it is in.

    A global lookup by a high-entropy secret, so it uses the escape hatch;
    the caller then works inside that one workspace.
    """
    with dangerously_cross_tenant(reason="invitation lookup by link token"):
        invitation = (
            Invitation.objects.select_related("workspace", "invited_by")
            .filter(token_hash=hash_secret(raw_token))
            .first()
        )
    return invitation


def workspace_by_id_for_operator(workspace_id: int) -> Workspace:
    workspace = Workspace.objects.filter(id=workspace_id).first()
    if workspace is None:
        raise Http404("No such workspace.")
    return workspace
