"""The routing API: teams, channel assignment modes, availability, business
hours and holidays, a conversation's team. Thin."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Status

from parley.inbox.access import access_conversation
from parley.routing import access, actions
from parley.routing.hours import schedule
from parley.routing.models import OpenInterval
from parley.routing.schemas import (
    AvailabilityIn,
    AvailabilityOut,
    ChannelRoutingIn,
    ChannelRoutingOut,
    ConversationTeamIn,
    ConversationTeamOut,
    HolidayIn,
    HolidayOut,
    HoursIn,
    HoursOut,
    IntervalSchema,
    OpenAtOut,
    TeamIn,
    TeamOut,
    TeamUpdateIn,
)
from parley.tenancy.actor import Actor, actor_of
from parley.tenancy.roles import Cap

router = Router(tags=["routing"])


def _team_out(actor: Actor, team_id: int) -> TeamOut:
    view = access.team_view(actor, access.access_team(actor, team_id))
    return TeamOut(id=view.id, name=view.name, member_ids=view.member_ids)


@router.get("/teams", response=list[TeamOut], summary="List teams")
def list_teams(request: HttpRequest) -> Any:
    return [
        TeamOut(id=t.id, name=t.name, member_ids=t.member_ids)
        for t in access.teams(actor_of(request))
    ]


@router.post("/teams", response={201: TeamOut}, summary="Create a team")
def create_team(request: HttpRequest, payload: TeamIn) -> Any:
    actor = actor_of(request)
    team = actions.do_create_team(actor=actor, name=payload.name, member_ids=payload.member_ids)
    return Status(201, _team_out(actor, team.pk))


@router.get("/teams/{team_id}", response=TeamOut, summary="Get a team")
def get_team(request: HttpRequest, team_id: int) -> Any:
    return _team_out(actor_of(request), team_id)


@router.patch("/teams/{team_id}", response=TeamOut, summary="Rename a team or set its members")
def update_team(request: HttpRequest, team_id: int, payload: TeamUpdateIn) -> Any:
    actor = actor_of(request)
    team = access.access_team(actor, team_id)
    actions.do_update_team(actor=actor, team=team, name=payload.name, member_ids=payload.member_ids)
    return _team_out(actor, team.pk)


@router.delete("/teams/{team_id}", response={204: None}, summary="Delete a team")
def delete_team(request: HttpRequest, team_id: int) -> Any:
    actor = actor_of(request)
    actions.do_delete_team(actor=actor, team=access.access_team(actor, team_id))
    return Status(204, None)


@router.get("/routing/channels", response=list[ChannelRoutingOut], summary="Assignment per channel")
def list_channel_routing(request: HttpRequest) -> Any:
    return access.channel_modes(actor_of(request))


@router.put(
    "/routing/channels/{channel_id}",
    response=ChannelRoutingOut,
    summary="Set a channel's assignment",
)
def set_channel_routing(request: HttpRequest, channel_id: int, payload: ChannelRoutingIn) -> Any:
    actor = actor_of(request)
    channel = access.access_channel(actor, channel_id)
    actions.do_set_channel_routing(
        actor=actor, channel=channel, mode=payload.mode, team_id=payload.team_id
    )
    return access.channel_view(actor, channel)


@router.get("/routing/availability", response=list[AvailabilityOut], summary="Who is available")
def list_availability(request: HttpRequest) -> Any:
    """Admins see everyone who takes conversations; others see themselves."""
    return access.agents(actor_of(request))


@router.put("/routing/availability", response=AvailabilityOut, summary="Set availability")
def set_availability(request: HttpRequest, payload: AvailabilityIn) -> Any:
    """Yourself (any agent), or someone else (admins). Only available members
    are picked by automatic assignment."""
    actor = actor_of(request)
    user_id = payload.user_id if payload.user_id is not None else actor.user_id
    if user_id is None:
        from parley.core.errors import ActionError

        raise ActionError(
            "An API token acts for nobody: give user_id.", code="required", field="user_id"
        )
    actions.do_set_availability(actor=actor, user_id=user_id, available=payload.available)
    return next(a for a in access.agents(actor) if a.user_id == user_id)


def _hours_out(actor: Actor) -> HoursOut:
    plan = schedule(actor.workspace.pk)
    intervals = [
        IntervalSchema(weekday=d, start=s, end=e)
        for d, s, e in OpenInterval.objects.filter(workspace=actor.workspace)
        .order_by("weekday", "start")
        .values_list("weekday", "start", "end")
    ]
    return HoursOut(
        enabled=plan.enabled,
        timezone=actor.workspace.timezone,
        intervals=intervals,
        away_enabled=plan.away_enabled,
        away_text=plan.away_text,
        open_now=plan.is_open(timezone.now()),
    )


@router.get("/routing/hours", response=HoursOut, summary="Business hours and away reply")
def get_hours(request: HttpRequest) -> Any:
    actor = actor_of(request)
    actor.require(Cap.WORKSPACE_READ)
    return _hours_out(actor)


@router.put("/routing/hours", response=HoursOut, summary="Set business hours and away reply")
def set_hours(request: HttpRequest, payload: HoursIn) -> Any:
    """Replaces the week's openings. Times are in the workspace's time zone."""
    actor = actor_of(request)
    fields = actions.HoursFields(
        enabled=payload.enabled,
        intervals=[(i.weekday, i.start, i.end) for i in payload.intervals],
        away_enabled=payload.away_enabled,
        away_text=payload.away_text,
    )
    actions.do_save_hours(actor=actor, fields=fields)
    return _hours_out(actor)


@router.get("/routing/hours/open", response=OpenAtOut, summary="Is the workspace open")
def open_at(request: HttpRequest, at: datetime | None = None) -> Any:
    """At ``at`` (ISO 8601 with offset), or now."""
    actor = actor_of(request)
    actor.require(Cap.WORKSPACE_READ)
    moment = at or timezone.now()
    if timezone.is_naive(moment):
        from parley.core.errors import ActionError

        raise ActionError("Give `at` with its UTC offset.", code="invalid_datetime", field="at")
    return OpenAtOut(at=moment, open=schedule(actor.workspace.pk).is_open(moment))


@router.get("/routing/holidays", response=list[HolidayOut], summary="List holidays")
def list_holidays(request: HttpRequest) -> Any:
    actor = actor_of(request)
    actor.require(Cap.WORKSPACE_READ)
    from parley.routing.models import Holiday

    return list(Holiday.objects.filter(workspace=actor.workspace).order_by("date"))


@router.post("/routing/holidays", response={201: HolidayOut}, summary="Add a holiday")
def add_holiday(request: HttpRequest, payload: HolidayIn) -> Any:
    """Closed all day (workspace's time zone)."""
    return Status(
        201, actions.do_add_holiday(actor=actor_of(request), day=payload.date, name=payload.name)
    )


@router.delete("/routing/holidays/{holiday_id}", response={204: None}, summary="Remove a holiday")
def delete_holiday(request: HttpRequest, holiday_id: int) -> Any:
    actor = actor_of(request)
    actions.do_delete_holiday(actor=actor, holiday=access.access_holiday(actor, holiday_id))
    return Status(204, None)


@router.put(
    "/conversations/{conversation_id}/team",
    response=ConversationTeamOut,
    summary="Give a conversation to a team",
)
def set_conversation_team(
    request: HttpRequest, conversation_id: int, payload: ConversationTeamIn
) -> Any:
    """An available agent of the team is picked by the channel's mode (round
    robin when it has none); with nobody available it waits unassigned."""
    actor = actor_of(request)
    conversation = access_conversation(actor, conversation_id)
    actions.do_assign_team(actor=actor, conversation=conversation, team_id=payload.team_id)
    return ConversationTeamOut(
        conversation_id=conversation.pk,
        team_id=conversation.team_id,
        assignee_id=conversation.assignee_id,
    )
