"""Fetching routing rows by id and the lists the pages and API show, scoped
to the actor's workspace."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404

from parley.routing.models import Availability, ChannelRouting, Holiday, Team, TeamMember
from parley.tenancy.actor import Actor
from parley.tenancy.models import Membership
from parley.tenancy.roles import Cap, Role
from parley.whatsapp.models import Channel


def access_team(actor: Actor, team_id: int) -> Team:
    actor.require(Cap.WORKSPACE_READ)
    team = Team.objects.filter(workspace=actor.workspace, id=team_id).first()
    if team is None:
        raise Http404("No such team.")
    return team


def access_holiday(actor: Actor, holiday_id: int) -> Holiday:
    actor.require(Cap.WORKSPACE_READ)
    holiday = Holiday.objects.filter(workspace=actor.workspace, id=holiday_id).first()
    if holiday is None:
        raise Http404("No such holiday.")
    return holiday


def access_channel(actor: Actor, channel_id: int) -> Channel:
    actor.require(Cap.WORKSPACE_READ)
    channel = Channel.objects.filter(workspace=actor.workspace, id=channel_id).first()
    if channel is None:
        raise Http404("No such channel.")
    return channel


@dataclass(frozen=True)
class TeamView:
    id: int
    name: str
    member_ids: list[int]
    member_names: list[str]


def teams(actor: Actor) -> list[TeamView]:
    actor.require(Cap.WORKSPACE_READ)
    members: dict[int, list[tuple[int, str]]] = {}
    for row in (
        TeamMember.objects.filter(workspace=actor.workspace)
        .select_related("user")
        .order_by("user__email")
    ):
        members.setdefault(row.team_id, []).append((row.user_id, row.user.display_name))
    return [
        TeamView(
            t.pk,
            t.name,
            [u for u, _ in members.get(t.pk, [])],
            [n for _, n in members.get(t.pk, [])],
        )
        for t in Team.objects.filter(workspace=actor.workspace).order_by("name")
    ]


def team_view(actor: Actor, team: Team) -> TeamView:
    return next(t for t in teams(actor) if t.id == team.pk)


@dataclass(frozen=True)
class ChannelView:
    channel_id: int
    channel_name: str
    mode: str
    team_id: int | None
    last_user_id: int | None


def channel_modes(actor: Actor) -> list[ChannelView]:
    actor.require(Cap.WORKSPACE_READ)
    routings = {r.channel_id: r for r in ChannelRouting.objects.filter(workspace=actor.workspace)}
    out = []
    for channel in Channel.objects.filter(workspace=actor.workspace).order_by("name", "id"):
        routing = routings.get(channel.pk)
        out.append(
            ChannelView(
                channel.pk,
                channel.name,
                routing.mode if routing else ChannelRouting.Mode.NONE,
                routing.team_id if routing else None,
                routing.last_user_id if routing else None,
            )
        )
    return out


def channel_view(actor: Actor, channel: Channel) -> ChannelView:
    return next(c for c in channel_modes(actor) if c.channel_id == channel.pk)


@dataclass(frozen=True)
class AgentView:
    user_id: int
    name: str
    email: str
    role: str
    available: bool


def agents(actor: Actor) -> list[AgentView]:
    """Everyone who may take conversations, with their availability: all of
    them for admins, only oneself for the others."""
    actor.require(Cap.WORKSPACE_READ)
    available = set(
        Availability.objects.filter(workspace=actor.workspace, available=True).values_list(
            "user_id", flat=True
        )
    )
    qs = (
        Membership.objects.filter(workspace=actor.workspace)
        .exclude(role=Role.VIEWER)
        .select_related("user")
        .order_by("user__email")
    )
    if not actor.can(Cap.MEMBERS_READ):
        qs = qs.filter(user_id=actor.user_id or 0)
    return [
        AgentView(m.user_id, m.user.display_name, m.user.email, m.role, m.user_id in available)
        for m in qs
    ]
