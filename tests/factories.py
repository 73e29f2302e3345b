"""Test data built through the real actions, so fixtures obey the same rules
(and the same row-level security) as the product."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from parley.accounts.models import ApiToken, User
from parley.core.tenant import workspace_context
from parley.tenancy.actions import do_create_workspace
from parley.tenancy.actor import Actor
from parley.tenancy.models import Membership, Workspace
from parley.tenancy.roles import ALL_SCOPES, Role

PASSWORD = "correct-horse-battery-9"
_seq = itertools.count(1)


def make_user(email: str | None = None, name: str = "", **extra: object) -> User:
    n = next(_seq)
    return User.objects.create_user(
        email or f"user{n}@example.test", PASSWORD, name=name or f"User {n}", **extra
    )


def make_workspace(name: str, owner: User | None = None) -> Workspace:
    owner = owner or make_user()
    return do_create_workspace(owner=owner, name=name)


def add_member(workspace: Workspace, user: User, role: str) -> Membership:
    with workspace_context(workspace.pk):
        return Membership.objects.create(workspace=workspace, user=user, role=role)


def actor_for(workspace: Workspace, user: User) -> Actor:
    with workspace_context(workspace.pk):
        role = Membership.objects.get(workspace=workspace, user=user).role
    return Actor(workspace=workspace, role=role, user=user)


def make_token(
    workspace: Workspace, user: User, scopes: tuple[str, ...] = ALL_SCOPES
) -> tuple[ApiToken, str]:
    from parley.accounts.actions import do_create_token

    with workspace_context(workspace.pk):
        return do_create_token(
            actor=actor_for(workspace, user), name="test token", scopes=list(scopes)
        )


@dataclass
class Tenant:
    """A workspace with one person per role, and an API token with every scope."""

    workspace: Workspace
    owner: User
    admin: User
    agent: User
    viewer: User
    token: ApiToken
    raw_token: str

    def member(self, user: User) -> Membership:
        with workspace_context(self.workspace.pk):
            return Membership.objects.get(workspace=self.workspace, user=user)


def make_tenant(label: str) -> Tenant:
    slug = label.lower()
    owner = make_user(f"owner@{slug}.test", name=f"{label} Owner")
    workspace = make_workspace(f"{label} Corp", owner)
    admin = make_user(f"admin@{slug}.test", name=f"{label} Admin")
    agent = make_user(f"agent@{slug}.test", name=f"{label} Agent")
    viewer = make_user(f"viewer@{slug}.test", name=f"{label} Viewer")
    add_member(workspace, admin, Role.ADMIN)
    add_member(workspace, agent, Role.AGENT)
    add_member(workspace, viewer, Role.VIEWER)
    token, raw = make_token(workspace, owner)
    return Tenant(workspace, owner, admin, agent, viewer, token, raw)
