"""One declarative map from role to capabilities, used by views and API alike."""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    AGENT = "agent", "Agent"
    VIEWER = "viewer", "Viewer"


class Cap(StrEnum):
    """What a member may do. Later areas add their capabilities here."""

    WORKSPACE_READ = "workspace.read"
    WORKSPACE_MANAGE = "workspace.manage"
    MEMBERS_READ = "members.read"
    MEMBERS_MANAGE = "members.manage"
    TOKENS_MANAGE = "tokens.manage"
    CONVERSATIONS_READ = "conversations.read"
    CONTACTS_READ = "contacts.read"
    CONTACTS_WRITE = "contacts.write"
    # Import and export every contact at once: admins only.
    CONTACTS_TRANSFER = "contacts.transfer"
    CONVERSATIONS_WORK = "conversations.work"
    # Templates, broadcasts and drips: everyone reads them; admins run them.
    CAMPAIGNS_READ = "campaigns.read"
    CAMPAIGNS_MANAGE = "campaigns.manage"
    # Outbound webhooks carry customer data to third parties: admins only, to see or change.
    WEBHOOKS_MANAGE = "webhooks.manage"
    # Execution logs hold webhook bodies and workflow HTTP-call inputs (URLs,
    # headers): admins only, like the webhooks and workflows they log.
    EXECUTIONS_READ = "executions.read"
    BILLING_MANAGE = "billing.manage"
    WORKSPACE_DELETE = "workspace.delete"


_VIEWER = frozenset(
    {Cap.WORKSPACE_READ, Cap.CONVERSATIONS_READ, Cap.CONTACTS_READ, Cap.CAMPAIGNS_READ}
)
_AGENT = _VIEWER | {Cap.CONVERSATIONS_WORK, Cap.CONTACTS_WRITE}
_ADMIN = _AGENT | {
    Cap.WORKSPACE_MANAGE,
    Cap.MEMBERS_READ,
    Cap.MEMBERS_MANAGE,
    Cap.TOKENS_MANAGE,
    Cap.CONTACTS_TRANSFER,
    Cap.CAMPAIGNS_MANAGE,
    Cap.WEBHOOKS_MANAGE,
    Cap.EXECUTIONS_READ,
}
_OWNER = _ADMIN | {Cap.BILLING_MANAGE, Cap.WORKSPACE_DELETE}

CAPABILITIES: dict[str, frozenset[Cap]] = {
    Role.VIEWER: _VIEWER,
    Role.AGENT: _AGENT,
    Role.ADMIN: _ADMIN,
    Role.OWNER: _OWNER,
}

# API token scopes: read/write per area. Each capability needs one scope.
SCOPE_FOR_CAP: dict[Cap, str] = {
    Cap.WORKSPACE_READ: "workspace:read",
    Cap.WORKSPACE_MANAGE: "workspace:write",
    Cap.MEMBERS_READ: "members:read",
    Cap.MEMBERS_MANAGE: "members:write",
    Cap.TOKENS_MANAGE: "tokens:write",
    Cap.CONVERSATIONS_READ: "conversations:read",
    Cap.CONVERSATIONS_WORK: "conversations:write",
    Cap.CONTACTS_READ: "contacts:read",
    Cap.CONTACTS_WRITE: "contacts:write",
    Cap.CONTACTS_TRANSFER: "contacts:transfer",
    Cap.CAMPAIGNS_READ: "campaigns:read",
    Cap.CAMPAIGNS_MANAGE: "campaigns:write",
    Cap.WEBHOOKS_MANAGE: "webhooks:write",
    Cap.EXECUTIONS_READ: "executions:read",
    Cap.BILLING_MANAGE: "billing:write",
    Cap.WORKSPACE_DELETE: "workspace:delete",
}
# Capabilities no token may ever carry: they need a person.
HUMAN_ONLY: frozenset[Cap] = frozenset({Cap.BILLING_MANAGE, Cap.WORKSPACE_DELETE})
ALL_SCOPES: tuple[str, ...] = tuple(
    sorted({scope for cap, scope in SCOPE_FOR_CAP.items() if cap not in HUMAN_ONLY})
)


def role_can(role: str, cap: Cap) -> bool:
    return cap in CAPABILITIES.get(role, frozenset())
