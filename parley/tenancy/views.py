"""Workspace pages: home, settings, members and invitations. Thin."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from parley.tenancy import access, actions
from parley.tenancy.actor import Actor
from parley.tenancy.forms import (
    DeleteWorkspaceForm,
    InviteForm,
    NewWorkspaceForm,
    RoleForm,
    WorkspaceForm,
)
from parley.tenancy.models import AuditEvent, Invitation, Membership
from parley.tenancy.plans import PLANS
from parley.tenancy.roles import Cap, Role
from parley.tenancy.web import apply_action, flash_action, workspace_view


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Land in the workspace the user last worked in."""
    memberships = access.user_memberships(request.user)  # type: ignore[arg-type]
    if not memberships:
        return redirect("workspace_new")
    last = getattr(request.user, "last_workspace_id", None)
    chosen = next((m for m in memberships if m.workspace_id == last), memberships[0])
    return redirect("workspace_home", slug=chosen.workspace.slug)


@login_required
def workspace_new(request: HttpRequest) -> HttpResponse:
    form = NewWorkspaceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        workspace = apply_action(
            form,
            lambda: actions.do_create_workspace(owner=request.user, name=form.cleaned_data["name"]),  # type: ignore[arg-type]
        )
        if workspace is not None:
            actions.do_remember_workspace(user=request.user, workspace_id=workspace.pk)  # type: ignore[arg-type]
            return redirect("workspace_home", slug=workspace.slug)
    memberships = access.user_memberships(request.user)  # type: ignore[arg-type]
    return render(request, "tenancy/workspace_new.html", {"form": form, "memberships": memberships})


@workspace_view()
def workspace_home(request: HttpRequest, actor: Actor) -> HttpResponse:
    ws = actor.workspace
    stats = {
        "members": Membership.objects.filter(workspace=ws).count(),
        "pending_invitations": sum(
            1
            for i in Invitation.objects.filter(workspace=ws, accepted_at=None, revoked_at=None)
            if i.is_pending
        ),
    }
    recent = (
        list(AuditEvent.objects.filter(workspace=ws).order_by("-created_at")[:8])
        if actor.can(Cap.MEMBERS_READ)
        else []
    )
    return render(request, "tenancy/home.html", {"stats": stats, "recent": recent})


@workspace_view()
def workspace_settings(request: HttpRequest, actor: Actor) -> HttpResponse:
    ws = actor.workspace
    form = WorkspaceForm(
        request.POST or None,
        initial={
            "name": ws.name,
            "timezone": ws.timezone,
            "default_country": ws.default_country,
            "mark_read_on_open": ws.mark_read_on_open,
        },
    )
    if request.method == "POST":
        actor.require(Cap.WORKSPACE_MANAGE)
        if form.is_valid():
            data = form.cleaned_data
            done = apply_action(
                form,
                lambda: actions.do_update_workspace(
                    actor=actor,
                    name=data["name"],
                    timezone_name=data["timezone"],
                    default_country=data["default_country"],
                    mark_read_on_open=data["mark_read_on_open"],
                ),
            )
            if done is not None:
                messages.success(request, "Settings saved.")
                return redirect("workspace_settings", slug=ws.slug)
    return render(
        request,
        "tenancy/settings.html",
        {
            "form": form,
            "delete_form": DeleteWorkspaceForm(),
            "can_edit": actor.can(Cap.WORKSPACE_MANAGE),
        },
    )


@workspace_view(Cap.WORKSPACE_DELETE)
@require_POST
def workspace_delete(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = DeleteWorkspaceForm(request.POST)
    if form.is_valid():
        name = actor.workspace.name
        done = flash_action(
            request,
            lambda: (
                actions.do_delete_workspace(
                    actor=actor, confirm_name=form.cleaned_data["confirm_name"]
                )
                or True
            ),
            f"Workspace {name} was deleted.",
        )
        if done:
            return redirect("home")
    else:
        messages.error(request, "Type the workspace name to confirm.")
    return redirect("workspace_settings", slug=actor.workspace.slug)


@workspace_view()
@require_POST
def workspace_leave(request: HttpRequest, actor: Actor) -> HttpResponse:
    done = flash_action(
        request,
        lambda: actions.do_leave_workspace(actor=actor) or True,
        f"You left {actor.workspace.name}.",
    )
    if done:
        return redirect("home")
    return redirect("workspace_home", slug=actor.workspace.slug)


@workspace_view(Cap.MEMBERS_READ)
def members(request: HttpRequest, actor: Actor) -> HttpResponse:
    invite_form = InviteForm(request.POST if request.method == "POST" else None)
    invite_link = None
    if request.method == "POST":
        actor.require(Cap.MEMBERS_MANAGE)
        if invite_form.is_valid():
            data = invite_form.cleaned_data
            result = apply_action(
                invite_form,
                lambda: actions.do_invite(actor=actor, email=data["email"], role=data["role"]),
            )
            if result is not None:
                invitation, raw = result
                invite_link = actions.invitation_link(raw)
                messages.success(request, f"Invitation sent to {invitation.email}.")
                invite_form = InviteForm()
    member_rows = list(
        Membership.objects.select_related("user").filter(workspace=actor.workspace).order_by("id")
    )
    invitations = [
        i
        for i in Invitation.objects.filter(workspace=actor.workspace).order_by("-created_at")[:50]
        if i.state == "pending"
    ]
    return render(
        request,
        "tenancy/members.html",
        {
            "members": member_rows,
            "invitations": invitations,
            "invite_form": invite_form,
            "invite_link": invite_link,
            "roles": Role.choices,
            "can_manage": actor.can(Cap.MEMBERS_MANAGE),
        },
    )


@workspace_view(Cap.MEMBERS_MANAGE)
@require_POST
def member_role(request: HttpRequest, actor: Actor, member_id: int) -> HttpResponse:
    member = access.access_member(actor, member_id)
    form = RoleForm(request.POST)
    if form.is_valid():
        role = form.cleaned_data["role"]
        flash_action(
            request,
            lambda: actions.do_change_role(actor=actor, member=member, role=role),
            f"{member.user.email} is now {role}.",
        )
    else:
        messages.error(request, "Choose a valid role.")
    return redirect("members", slug=actor.workspace.slug)


@workspace_view(Cap.MEMBERS_MANAGE)
@require_POST
def member_remove(request: HttpRequest, actor: Actor, member_id: int) -> HttpResponse:
    member = access.access_member(actor, member_id)
    email = member.user.email
    flash_action(
        request,
        lambda: actions.do_remove_member(actor=actor, member=member),
        f"{email} was removed.",
    )
    return redirect("members", slug=actor.workspace.slug)


@workspace_view(Cap.MEMBERS_MANAGE)
@require_POST
def invitation_revoke(request: HttpRequest, actor: Actor, invitation_id: int) -> HttpResponse:
    invitation = access.access_invitation(actor, invitation_id)
    flash_action(
        request,
        lambda: actions.do_revoke_invitation(actor=actor, invitation=invitation),
        f"Invitation for {invitation.email} revoked.",
    )
    return redirect("members", slug=actor.workspace.slug)


@workspace_view(Cap.BILLING_MANAGE)
def billing(request: HttpRequest, actor: Actor) -> HttpResponse:
    if request.method == "POST":
        plan = request.POST.get("plan", "")
        flash_action(
            request,
            lambda: actions.do_change_plan(actor=actor, plan=plan),
            f"Plan changed to {plan}.",
        )
        return redirect("billing", slug=actor.workspace.slug)
    return render(request, "tenancy/billing.html", {"plans": PLANS.items()})
