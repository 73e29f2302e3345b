"""Workspace, members, invitations and audit log over the API. Thin: every
state change is an action, every fetch by id an access helper."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from parley.core.pagination import paginate
from parley.tenancy import access, actions
from parley.tenancy.actor import actor_of
from parley.tenancy.models import AuditEvent, Invitation, Membership
from parley.tenancy.roles import Cap
from parley.tenancy.schemas import (
    AuditEventPage,
    InvitationCreatedOut,
    InvitationIn,
    InvitationOut,
    InvitationPage,
    MemberOut,
    MemberPage,
    MemberUpdateIn,
    WorkspaceOut,
    WorkspaceUpdateIn,
)

router = Router(tags=["workspace"])


@router.get("/workspace", response=WorkspaceOut, summary="The current workspace")
def get_workspace(request: HttpRequest) -> Any:
    actor = actor_of(request)
    actor.require(Cap.WORKSPACE_READ)
    return actor.workspace


@router.patch("/workspace", response=WorkspaceOut, summary="Update the workspace's profile")
def update_workspace(request: HttpRequest, payload: WorkspaceUpdateIn) -> Any:
    actor = actor_of(request)
    ws = actor.workspace
    return actions.do_update_workspace(
        actor=actor,
        name=payload.name if payload.name is not None else ws.name,
        timezone_name=payload.timezone if payload.timezone is not None else ws.timezone,
        default_country=(
            payload.default_country if payload.default_country is not None else ws.default_country
        ),
        mark_read_on_open=payload.mark_read_on_open,
    )


@router.get("/members", response=MemberPage, summary="List members (admins)")
def list_members(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> Any:
    actor = actor_of(request)
    actor.require(Cap.MEMBERS_READ)
    qs = Membership.objects.select_related("user").filter(workspace=actor.workspace)
    return paginate(qs, cursor=cursor, limit=limit)


@router.get("/members/{member_id}", response=MemberOut, summary="Get a member (admins)")
def get_member(request: HttpRequest, member_id: int) -> Any:
    actor = actor_of(request)
    actor.require(Cap.MEMBERS_READ)
    return access.access_member(actor, member_id)


@router.patch("/members/{member_id}", response=MemberOut, summary="Change a member's role")
def update_member(request: HttpRequest, member_id: int, payload: MemberUpdateIn) -> Any:
    actor = actor_of(request)
    actor.require(Cap.MEMBERS_MANAGE)
    member = access.access_member(actor, member_id)
    return actions.do_change_role(actor=actor, member=member, role=payload.role)


@router.delete("/members/{member_id}", response={204: None}, summary="Remove a member")
def remove_member(request: HttpRequest, member_id: int) -> Any:
    actor = actor_of(request)
    actor.require(Cap.MEMBERS_MANAGE)
    actions.do_remove_member(actor=actor, member=access.access_member(actor, member_id))
    return Status(204, None)


@router.get("/invitations", response=InvitationPage, summary="List invitations (admins)")
def list_invitations(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> Any:
    actor = actor_of(request)
    actor.require(Cap.MEMBERS_READ)
    qs = Invitation.objects.filter(workspace=actor.workspace)
    return paginate(qs, cursor=cursor, limit=limit)


@router.post(
    "/invitations",
    response={201: InvitationCreatedOut},
    summary="Invite someone by email",
    description="Emails a one-time link. The link is also returned here, once.",
)
def create_invitation(request: HttpRequest, payload: InvitationIn) -> Any:
    actor = actor_of(request)
    invitation, raw = actions.do_invite(actor=actor, email=payload.email, role=payload.role)
    out = InvitationOut.model_validate(invitation).model_dump()
    return Status(201, {**out, "accept_url": actions.invitation_link(raw)})


@router.get("/invitations/{invitation_id}", response=InvitationOut, summary="Get an invitation")
def get_invitation(request: HttpRequest, invitation_id: int) -> Any:
    actor = actor_of(request)
    actor.require(Cap.MEMBERS_READ)
    return access.access_invitation(actor, invitation_id)


@router.delete(
    "/invitations/{invitation_id}", response=InvitationOut, summary="Revoke an invitation"
)
def revoke_invitation(request: HttpRequest, invitation_id: int) -> Any:
    actor = actor_of(request)
    actor.require(Cap.MEMBERS_MANAGE)
    invitation = access.access_invitation(actor, invitation_id)
    return actions.do_revoke_invitation(actor=actor, invitation=invitation)


@router.get("/audit-events", response=AuditEventPage, summary="The workspace's audit log (admins)")
def list_audit_events(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> Any:
    actor = actor_of(request)
    actor.require(Cap.MEMBERS_READ)
    qs = AuditEvent.objects.filter(workspace=actor.workspace)
    return paginate(qs, cursor=cursor, limit=limit)
