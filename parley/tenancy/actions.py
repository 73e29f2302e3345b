"""Every state change of workspaces, memberships and invitations."""

from __future__ import annotations

import secrets
import zoneinfo
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import phonenumbers
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from parley.core import interest
from parley.core.errors import ActionError, Conflict
from parley.core.mail import send_on_commit
from parley.core.tenant import activate_workspace
from parley.tenancy.access import hash_secret
from parley.tenancy.actor import Actor
from parley.tenancy.models import AuditEvent, Invitation, Membership, Workspace
from parley.tenancy.plans import PLANS
from parley.tenancy.roles import Cap, Role

if TYPE_CHECKING:
    from parley.accounts.models import User

COUNTRY_CODES: frozenset[str] = frozenset(phonenumbers.SUPPORTED_REGIONS)


def record(actor: Actor, action: str, target: str = "", **data: Any) -> None:
    AuditEvent.objects.create(
        workspace=actor.workspace,
        actor=actor.user,
        actor_label=actor.label,
        action=action,
        target=target,
        data=data,
    )


def validate_timezone(name: str) -> str:
    if name not in zoneinfo.available_timezones():
        raise ActionError(
            f"Unknown time zone {name!r}; use an IANA name such as Europe/Berlin.",
            code="invalid_timezone",
            field="timezone",
        )
    return name


def validate_country(code: str) -> str:
    code = code.strip().upper()
    if code not in COUNTRY_CODES:
        raise ActionError(
            f"Unknown country code {code!r}; use two letters such as US or DE.",
            code="invalid_country",
            field="default_country",
        )
    return code


def _unique_slug(name: str) -> str:
    base = slugify(name)[:40] or "workspace"
    slug = base
    while Workspace.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


@transaction.atomic
def do_create_workspace(
    *, owner: User, name: str, timezone_name: str = "UTC", default_country: str = "US"
) -> Workspace:
    name = name.strip()
    if not name:
        raise ActionError("Give the workspace a name.", code="required", field="name")
    workspace = Workspace.objects.create(
        name=name,
        slug=_unique_slug(name),
        timezone=validate_timezone(timezone_name),
        default_country=validate_country(default_country),
    )
    activate_workspace(workspace.pk)
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    record(
        Actor(workspace=workspace, role=Role.OWNER, user=owner), "workspace.created", workspace.name
    )
    return workspace


@transaction.atomic
def do_update_workspace(
    *,
    actor: Actor,
    name: str,
    timezone_name: str,
    default_country: str,
    mark_read_on_open: bool | None = None,
) -> Workspace:
    actor.require(Cap.WORKSPACE_MANAGE)
    workspace = actor.workspace
    name = name.strip()
    if not name:
        raise ActionError("Give the workspace a name.", code="required", field="name")
    workspace.name = name
    workspace.timezone = validate_timezone(timezone_name)
    workspace.default_country = validate_country(default_country)
    if mark_read_on_open is not None:
        workspace.mark_read_on_open = mark_read_on_open
    workspace.save(update_fields=["name", "timezone", "default_country", "mark_read_on_open"])
    # Business hours are judged in the workspace's zone (core/interest).
    interest.bump(workspace.pk)
    record(actor, "workspace.updated", workspace.name)
    return workspace


@transaction.atomic
def do_delete_workspace(*, actor: Actor, confirm_name: str) -> None:
    actor.require(Cap.WORKSPACE_DELETE)
    if confirm_name.strip() != actor.workspace.name:
        raise ActionError(
            "Type the workspace's exact name to confirm deletion.",
            code="confirmation_mismatch",
            field="confirm_name",
        )
    actor.workspace.delete()


@transaction.atomic
def do_change_plan(*, actor: Actor, plan: str) -> Workspace:
    actor.require(Cap.BILLING_MANAGE)
    if plan not in PLANS:
        raise ActionError(
            f"Unknown plan {plan!r}; choose one of {', '.join(PLANS)}.",
            code="invalid_plan",
            field="plan",
        )
    workspace = actor.workspace
    old = workspace.plan
    workspace.plan = plan
    workspace.monthly_message_quota = PLANS[plan]
    workspace.save(update_fields=["plan", "monthly_message_quota"])
    record(actor, "workspace.plan_changed", plan, old=old, quota=PLANS[plan])
    return workspace


@transaction.atomic
def do_override_quota(*, operator: User, workspace: Workspace, quota: int) -> Workspace:
    """The operator's override of a workspace's monthly message quota."""
    if not operator.is_staff:
        raise PermissionDenied("Only operators override quotas.")
    if quota < 0 or quota > 100_000_000:
        raise ActionError(
            "The quota must be between 0 and 100,000,000.", code="invalid_quota", field="quota"
        )
    old = workspace.monthly_message_quota
    workspace.monthly_message_quota = quota
    workspace.save(update_fields=["monthly_message_quota"])
    activate_workspace(workspace.pk)
    AuditEvent.objects.create(
        workspace=workspace,
        actor=operator,
        actor_label=f"operator {operator.email}",
        action="workspace.quota_overridden",
        target=str(quota),
        data={"old": old, "new": quota},
    )
    return workspace


def _owner_count(workspace: Workspace) -> int:
    return Membership.objects.filter(workspace=workspace, role=Role.OWNER).count()


def _guard_owner_rules(actor: Actor, member: Membership, new_role: str | None) -> None:
    """Only owners touch owners; the last owner stays an owner."""
    touches_owner = member.role == Role.OWNER or new_role == Role.OWNER
    if touches_owner and actor.role != Role.OWNER:
        raise PermissionDenied("Only an owner can grant, change or remove the owner role.")
    if member.role == Role.OWNER and new_role != Role.OWNER:
        # Lock the owners' rows so two concurrent demotions cannot both pass.
        owners = list(
            Membership.objects.select_for_update()
            .filter(workspace=member.workspace, role=Role.OWNER)
            .values_list("id", flat=True)
        )
        if len(owners) <= 1:
            raise Conflict(
                "A workspace needs at least one owner: make someone else owner first.",
                code="last_owner",
                field="role",
            )


def _validate_role(role: str) -> str:
    if role not in Role.values:
        raise ActionError(
            f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.",
            code="invalid_role",
            field="role",
        )
    return role


@transaction.atomic
def do_change_role(*, actor: Actor, member: Membership, role: str) -> Membership:
    actor.require(Cap.MEMBERS_MANAGE)
    role = _validate_role(role)
    if member.role == role:
        return member
    _guard_owner_rules(actor, member, role)
    old = member.role
    member.role = role
    member.save(update_fields=["role"])
    record(actor, "member.role_changed", member.user.email, old=old, new=role)
    return member


@transaction.atomic
def do_remove_member(*, actor: Actor, member: Membership) -> None:
    actor.require(Cap.MEMBERS_MANAGE)
    _guard_owner_rules(actor, member, None)
    email = member.user.email
    member.delete()
    record(actor, "member.removed", email)


@transaction.atomic
def do_leave_workspace(*, actor: Actor) -> None:
    member = Membership.objects.select_related("user").get(
        workspace=actor.workspace, user=actor.user
    )
    if member.role == Role.OWNER and _owner_count(actor.workspace) <= 1:
        raise Conflict(
            "You are the last owner: make someone else owner, or delete the workspace.",
            code="last_owner",
        )
    member.delete()
    record(actor, "member.left", member.user.email)


def do_remember_workspace(*, user: User, workspace_id: int) -> None:
    """Where "/" and the API land for this user next time."""
    if user.last_workspace_id != workspace_id:
        user.last_workspace_id = workspace_id
        user.save(update_fields=["last_workspace_id"])


def invitation_link(raw_token: str) -> str:
    return settings.BASE_URL + reverse("accept_invitation", args=[raw_token])


@transaction.atomic
def do_invite(*, actor: Actor, email: str, role: str) -> tuple[Invitation, str]:
    """Create (or re-issue) an invitation; returns it with its one-time link token."""
    actor.require(Cap.MEMBERS_MANAGE)
    email = email.strip().lower()
    role = _validate_role(role)
    if "@" not in email or len(email) > 254:
        raise ActionError("Enter a valid email address.", code="invalid_email", field="email")
    if role == Role.OWNER and actor.role != Role.OWNER:
        raise PermissionDenied("Only an owner can invite another owner.")
    if Membership.objects.filter(workspace=actor.workspace, user__email__iexact=email).exists():
        raise Conflict(f"{email} is already a member.", code="already_member", field="email")
    now = timezone.now()
    # Re-inviting replaces the earlier pending link.
    Invitation.objects.filter(
        workspace=actor.workspace, email=email, accepted_at=None, revoked_at=None
    ).update(revoked_at=now)
    raw = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        workspace=actor.workspace,
        email=email,
        role=role,
        token_hash=hash_secret(raw),
        invited_by=actor.user,
        expires_at=now + timedelta(days=settings.PARLEY_INVITATION_DAYS),
    )
    record(actor, "invitation.created", email, role=role)
    inviter = actor.user.display_name if actor.user else actor.label
    send_on_commit(
        to=email,
        subject=f"{inviter} invited you to {actor.workspace.name} on Parley",
        body=(
            f"{inviter} invited you to join {actor.workspace.name} on Parley as {role}.\n\n"
            f"Accept the invitation: {invitation_link(raw)}\n\n"
            f"The link works once and expires in {settings.PARLEY_INVITATION_DAYS} days."
        ),
    )
    return invitation, raw


@transaction.atomic
def do_revoke_invitation(*, actor: Actor, invitation: Invitation) -> Invitation:
    actor.require(Cap.MEMBERS_MANAGE)
    if invitation.state != "pending":
        raise Conflict(
            f"This invitation is already {invitation.state}.", code="invitation_not_pending"
        )
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    record(actor, "invitation.revoked", invitation.email)
    return invitation


@transaction.atomic
def do_accept_invitation(*, user: User, invitation: Invitation) -> Membership:
    if invitation.state != "pending":
        raise Conflict(
            f"This invitation is {invitation.state}; ask for a new one.",
            code="invitation_not_pending",
        )
    if user.email.lower() != invitation.email.lower():
        raise ActionError(
            f"This invitation is for {invitation.email}; you are signed in as {user.email}.",
            code="wrong_account",
        )
    workspace = invitation.workspace
    activate_workspace(workspace.pk)
    # Lock the row: two clicks on the link must not make two memberships.
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise Conflict("This invitation was already accepted.", code="invitation_not_pending")
    membership, _created = Membership.objects.get_or_create(
        workspace=workspace, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    user_model = get_user_model()
    user_model.objects.filter(pk=user.pk).update(last_workspace_id=workspace.pk)
    record(
        Actor(workspace=workspace, role=membership.role, user=user),
        "invitation.accepted",
        user.email,
    )
    return membership
