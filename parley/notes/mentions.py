"""Who can be @mentioned in a workspace, and by which handle.

A handle is the local part of the member's email ("ana.silva" for
ana.silva@example.com): stable, free of spaces, and what colleagues already
know each other by. When two members share a local part, both are reachable
by their whole email instead, so a handle never names two people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parley.tenancy.models import Membership

# "@" not glued to a word (so "bob@example.com" is an address, not a mention),
# then a local part, optionally followed by a domain.
MENTION = re.compile(
    r"(?<![\w@.+-])@([a-z0-9._+-]+(?:@[a-z0-9-]+(?:\.[a-z0-9-]+)+)?)", re.IGNORECASE
)


@dataclass(frozen=True)
class Member:
    user_id: int
    handle: str
    name: str
    email: str


def clean_handle(raw: str) -> str:
    # A sentence may end right after a mention: "thanks @ana."
    return raw.rstrip(".").lower()


def workspace_members(workspace_id: int) -> list[Member]:
    """Every member with their handle, ordered by name (one query)."""
    rows = list(
        Membership.objects.filter(workspace_id=workspace_id)
        .select_related("user")
        .only("user__id", "user__email", "user__name")
    )
    local_counts: dict[str, int] = {}
    for m in rows:
        local = m.user.email.split("@")[0].lower()
        local_counts[local] = local_counts.get(local, 0) + 1
    members = []
    for m in rows:
        email = m.user.email.lower()
        local = email.split("@")[0]
        handle = local if local_counts[local] == 1 else email
        members.append(
            Member(user_id=m.user.pk, handle=handle, name=m.user.display_name, email=email)
        )
    members.sort(key=lambda x: (x.name.lower(), x.handle))
    return members


def handle_map(workspace_id: int) -> dict[str, Member]:
    """Handle -> member. Whole emails resolve too, whichever handle is shown."""
    found: dict[str, Member] = {}
    for member in workspace_members(workspace_id):
        found[member.email] = member
        found[member.handle] = member
    return found
