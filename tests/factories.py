"""Test data built through the real actions, so fixtures obey the same rules
(and the same row-level security) as the product."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

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


def make_channel(
    tenant: Tenant, *, phone_number_id: str = "", app_secret: str = "app-secret-123"
) -> Any:
    from parley.whatsapp.actions import do_connect_channel

    n = next(_seq)
    with workspace_context(tenant.workspace.pk):
        return do_connect_channel(
            actor=actor_for(tenant.workspace, tenant.owner),
            name=f"Line {n}",
            phone_number_id=phone_number_id or f"10{n:08d}",
            waba_id=f"20{n:08d}",
            access_token=f"token-{n}-abcdefgh",
            app_secret=app_secret,
            display_phone_number=f"+1555{n:07d}",
        )


def seed_inbox(tenant: Tenant) -> dict[str, str]:
    """A channel, a contact who wrote, their conversation and a quick reply."""
    from django.utils import timezone

    from parley.crm.models import Contact
    from parley.inbox.actions import do_save_quick_reply
    from parley.inbox.models import Conversation, Message

    channel = make_channel(tenant)
    with workspace_context(tenant.workspace.pk):
        contact = Contact.objects.create(
            workspace=tenant.workspace, wa_id="15550001111", name="Ann Customer"
        )
        conversation = Conversation.objects.create(
            workspace=tenant.workspace,
            contact=contact,
            channel=channel,
            last_inbound_at=timezone.now(),
        )
        message = Message.objects.create(
            workspace=tenant.workspace,
            conversation=conversation,
            direction="in",
            wamid="wamid.seed",
            text="hi there",
            status="received",
        )
        from parley.crm.models import Tag

        tag = Tag.objects.create(workspace=tenant.workspace, name="VIP")
        quick_reply = do_save_quick_reply(
            actor=actor_for(tenant.workspace, tenant.owner),
            quick_reply=None,
            shortcut="hello",
            title="Hello",
            body="Hello {{first_name}}",
        )
    return {
        "channel_id": str(channel.pk),
        "contact_id": str(contact.pk),
        "conversation_id": str(conversation.pk),
        "message_id": str(message.pk),
        "quick_reply_id": str(quick_reply.pk),
        "tag_id": str(tag.pk),
    }


def seed_note(tenant: Tenant, contact_id: str | int) -> dict[str, str]:
    """A note by the owner on the contact, @mentioning the agent (so the agent
    has a notification too)."""
    from parley.crm.models import Contact
    from parley.notes.actions import do_create_note
    from parley.notifications.models import Notification

    local = tenant.agent.email.split("@")[0]
    with workspace_context(tenant.workspace.pk):
        note = do_create_note(
            actor=actor_for(tenant.workspace, tenant.owner),
            contact=Contact.objects.get(workspace=tenant.workspace, pk=int(contact_id)),
            body=f"Called them back. @{local} please follow up.",
        )
        notification = Notification.objects.get(
            workspace=tenant.workspace, user=tenant.agent, dedupe_key__startswith=f"note:{note.pk}:"
        )
    return {"note_id": str(note.pk), "notification_id": str(notification.pk)}


def seed_deal_and_task(tenant: Tenant, contact_id: str | int) -> dict[str, str]:
    """A deal on the contact in the default pipeline, and a task on that deal."""
    from parley.crm.models import Contact
    from parley.deals.actions import do_create_deal
    from parley.todos.actions import do_create_task

    with workspace_context(tenant.workspace.pk):
        actor = actor_for(tenant.workspace, tenant.owner)
        contact = Contact.objects.get(workspace=tenant.workspace, pk=int(contact_id))
        deal = do_create_deal(actor=actor, title="Annual plan", contact=contact, value=1200)
        task = do_create_task(actor=actor, title="Send the quote", deal=deal)
    return {
        "deal_id": str(deal.pk),
        "pipeline_id": str(deal.pipeline_id),
        "stage_id": str(deal.stage_id),
        "task_id": str(task.pk),
    }
