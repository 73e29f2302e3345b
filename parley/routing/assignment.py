"""Picking an agent: round robin or least busy, among the available members
(of a team, when one is given).

Every pick holds the channel's ChannelRouting row locked (SELECT ... FOR
UPDATE) until its transaction ends, so two workers assigning on the same
channel take turns: the second sees the cursor the first moved, and least
busy sees the conversation the first just assigned.
"""

from __future__ import annotations

from django.db.models import Count

from parley.inbox.models import Conversation
from parley.routing.models import Availability, ChannelRouting, TeamMember
from parley.tenancy.models import Membership
from parley.tenancy.roles import Role


def candidates(workspace_id: int, team_id: int | None) -> list[int]:
    """User ids that may be picked, ascending: members who answer
    conversations (not viewers), marked available, in the team if any."""
    available = Availability.objects.filter(workspace_id=workspace_id, available=True)
    qs = (
        Membership.objects.filter(
            workspace_id=workspace_id,
            user_id__in=available.values("user_id"),
            user__is_active=True,
        )
        .exclude(role=Role.VIEWER)
        .values_list("user_id", flat=True)
    )
    if team_id is not None:
        qs = qs.filter(
            user_id__in=TeamMember.objects.filter(
                workspace_id=workspace_id, team_id=team_id
            ).values("user_id")
        )
    return sorted(set(qs))


def lock_routing(workspace_id: int, channel_id: int) -> ChannelRouting:
    """The channel's routing row, created on first use, locked until commit."""
    routing, _created = ChannelRouting.objects.get_or_create(
        workspace_id=workspace_id, channel_id=channel_id
    )
    return ChannelRouting.objects.select_for_update().get(pk=routing.pk)


def _rotation(ids: list[int], last: int | None) -> list[int]:
    """``ids`` starting just after ``last`` (wrapping), so turns go around."""
    if last is None:
        return ids
    after = [i for i in ids if i > last]
    return after + [i for i in ids if i <= last]


def pick(routing: ChannelRouting, *, mode: str, team_id: int | None) -> int | None:
    """Choose the next agent on a locked ``routing`` row and move its cursor."""
    ids = candidates(routing.workspace_id, team_id)
    if not ids:
        return None
    order = _rotation(ids, routing.last_user_id)
    if mode == ChannelRouting.Mode.LEAST_BUSY:
        loads = dict(
            Conversation.objects.filter(
                workspace_id=routing.workspace_id,
                status=Conversation.Status.OPEN,
                assignee_id__in=ids,
            )
            .values("assignee_id")
            .annotate(n=Count("id"))
            .values_list("assignee_id", "n")
        )
        # Ties go round in turn, so equal loads do not always favour one agent.
        chosen = min(order, key=lambda uid: (loads.get(uid, 0), order.index(uid)))
    else:
        chosen = order[0]
    routing.last_user_id = chosen
    routing.save(update_fields=["last_user"])
    return chosen


def pick_agent(*, workspace_id: int, channel_id: int, team_id: int | None) -> int | None:
    """An agent for a conversation on ``channel_id`` by the channel's mode
    (round robin when the channel has none), among ``team_id``'s members or,
    without one, the channel's team. None when nobody is available. Call
    inside a transaction in the workspace's context (the workflow engine's
    step); the pick is final when that transaction commits."""
    routing = lock_routing(workspace_id, channel_id)
    mode = routing.mode
    if mode == ChannelRouting.Mode.NONE:
        mode = ChannelRouting.Mode.ROUND_ROBIN
    return pick(routing, mode=mode, team_id=team_id if team_id is not None else routing.team_id)
