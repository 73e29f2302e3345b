"""Every state change of routing: teams, availability, channel modes, hours,
holidays, the conversation's team, and the automatic assignment and away
reply (run by jobs)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date, datetime, time

import structlog
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from parley.core import interest
from parley.core.errors import ActionError, Conflict
from parley.core.events import publish
from parley.inbox.actions import do_assign, do_send_text
from parley.inbox.models import Conversation
from parley.routing import assignment
from parley.routing.hours import schedule
from parley.routing.models import (
    Availability,
    AwayReply,
    ChannelRouting,
    Holiday,
    HoursSettings,
    OpenInterval,
    Team,
    TeamMember,
)
from parley.tenancy.actions import record
from parley.tenancy.actor import Actor
from parley.tenancy.models import Membership, Workspace
from parley.tenancy.roles import Cap, Role
from parley.whatsapp.models import Channel

log = structlog.get_logger(__name__)

MAX_INTERVALS_PER_DAY = 6
MAX_AWAY_TEXT = 1000


def system_actor(workspace: Workspace) -> Actor:
    """Who assigns and replies automatically: no person, an admin's rights."""
    return Actor(workspace=workspace, role=Role.ADMIN)


# -- teams ------------------------------------------------------------------------------------


def _clean_team(actor: Actor, name: str, member_ids: list[int], team: Team | None) -> str:
    name = " ".join(name.split())
    if not name or len(name) > 80:
        raise ActionError(
            "A team needs a name of 1 to 80 characters.", code="invalid", field="name"
        )
    clash = Team.objects.filter(workspace=actor.workspace, name__iexact=name)
    if team is not None:
        clash = clash.exclude(pk=team.pk)
    if clash.exists():
        raise Conflict(f"There is already a team called {name!r}.", code="name_taken", field="name")
    members = set(
        Membership.objects.filter(workspace=actor.workspace, user_id__in=member_ids)
        .exclude(role=Role.VIEWER)
        .values_list("user_id", flat=True)
    )
    missing = sorted(set(member_ids) - members)
    if missing:
        raise ActionError(
            f"Only agents, admins and owners of this workspace can join a team (not {missing}).",
            code="invalid_member",
            field="member_ids",
        )
    return name


def _set_members(actor: Actor, team: Team, member_ids: list[int]) -> None:
    TeamMember.objects.filter(workspace=actor.workspace, team=team).exclude(
        user_id__in=member_ids
    ).delete()
    TeamMember.objects.bulk_create(
        [TeamMember(workspace=actor.workspace, team=team, user_id=u) for u in set(member_ids)],
        ignore_conflicts=True,
    )


@transaction.atomic
def do_create_team(*, actor: Actor, name: str, member_ids: list[int]) -> Team:
    actor.require(Cap.WORKSPACE_MANAGE)
    name = _clean_team(actor, name, member_ids, None)
    team = Team.objects.create(workspace=actor.workspace, name=name)
    _set_members(actor, team, member_ids)
    record(actor, "team.created", f"team:{team.pk}", name=name)
    return team


@transaction.atomic
def do_update_team(
    *, actor: Actor, team: Team, name: str | None = None, member_ids: list[int] | None = None
) -> Team:
    actor.require(Cap.WORKSPACE_MANAGE)
    current = list(team.members.values_list("user_id", flat=True))
    new_name = _clean_team(
        actor,
        team.name if name is None else name,
        current if member_ids is None else member_ids,
        team,
    )
    if new_name != team.name:
        team.name = new_name
        team.save(update_fields=["name"])
    if member_ids is not None:
        _set_members(actor, team, member_ids)
    record(actor, "team.updated", f"team:{team.pk}", name=team.name)
    return team


@transaction.atomic
def do_delete_team(*, actor: Actor, team: Team) -> None:
    actor.require(Cap.WORKSPACE_MANAGE)
    record(actor, "team.deleted", f"team:{team.pk}", name=team.name)
    team.delete()


# -- availability -----------------------------------------------------------------------------


@transaction.atomic
def do_set_availability(*, actor: Actor, user_id: int, available: bool) -> Availability:
    """Anyone who answers conversations sets their own; admins set anyone's."""
    if user_id != actor.user_id:
        actor.require(Cap.MEMBERS_MANAGE)
    else:
        actor.require(Cap.CONVERSATIONS_WORK)
    if (
        not Membership.objects.filter(workspace=actor.workspace, user_id=user_id)
        .exclude(role=Role.VIEWER)
        .exists()
    ):
        raise ActionError(
            "Only agents, admins and owners of this workspace take conversations.",
            code="invalid_member",
            field="user_id",
        )
    row, _ = Availability.objects.update_or_create(
        workspace=actor.workspace,
        user_id=user_id,
        defaults={"available": available, "updated_at": timezone.now()},
    )
    publish(actor.workspace.pk, "availability", user_id)
    return row


def is_available(workspace_id: int, user_id: int | None) -> bool:
    if user_id is None:
        return False
    return Availability.objects.filter(
        workspace_id=workspace_id, user_id=user_id, available=True
    ).exists()


# -- channel modes ----------------------------------------------------------------------------


@transaction.atomic
def do_set_channel_routing(
    *, actor: Actor, channel: Channel, mode: str, team_id: int | None
) -> ChannelRouting:
    actor.require(Cap.WORKSPACE_MANAGE)
    if mode not in ChannelRouting.Mode.values:
        raise ActionError(
            f"Unknown mode {mode!r}; use one of {', '.join(ChannelRouting.Mode.values)}.",
            code="invalid_mode",
            field="mode",
        )
    if (
        team_id is not None
        and not Team.objects.filter(workspace=actor.workspace, pk=team_id).exists()
    ):
        raise ActionError(
            "Pick one of this workspace's teams.", code="invalid_team", field="team_id"
        )
    routing = assignment.lock_routing(actor.workspace.pk, channel.pk)
    routing.mode = mode
    routing.team_id = team_id
    routing.updated_at = timezone.now()
    routing.save(update_fields=["mode", "team", "updated_at"])
    interest.bump(actor.workspace.pk)
    record(actor, "routing.channel", f"channel:{channel.pk}", mode=mode, team_id=team_id)
    return routing


# -- the conversation's team ------------------------------------------------------------------


@transaction.atomic
def do_assign_team(
    *, actor: Actor, conversation: Conversation, team_id: int | None
) -> Conversation:
    """Hand the conversation to a team: an agent of it is picked by the
    channel's mode (round robin when the channel has none); with nobody of the
    team available it waits unassigned in the team. None clears the team."""
    actor.require(Cap.CONVERSATIONS_WORK)
    if (
        team_id is not None
        and not Team.objects.filter(workspace=actor.workspace, pk=team_id).exists()
    ):
        raise ActionError(
            "Pick one of this workspace's teams.", code="invalid_team", field="team_id"
        )
    conversation.team_id = team_id
    conversation.save(update_fields=["team"])
    if team_id is not None:
        user_id = assignment.pick_agent(
            workspace_id=actor.workspace.pk, channel_id=conversation.channel_id, team_id=team_id
        )
        do_assign(actor=system_actor(actor.workspace), conversation=conversation, user_id=user_id)
    publish(actor.workspace.pk, "conversation", conversation.pk)
    return conversation


def assign_new(*, workspace_id: int, conversation_ids: list[int]) -> int:
    """The job's work: give each still-unassigned conversation an agent by
    its channel's mode. Idempotent: an assigned conversation is left alone.
    Returns how many were assigned."""
    workspace = Workspace.objects.get(pk=workspace_id)
    # Lock order: routing rows (by id), then conversations (by id): workers
    # on overlapping batches queue instead of deadlocking.
    channel_ids = set(
        Conversation.objects.filter(
            workspace_id=workspace_id, id__in=conversation_ids, assignee__isnull=True
        ).values_list("channel_id", flat=True)
    )
    routings = {
        r.channel_id: r
        for r in ChannelRouting.objects.select_for_update()
        .filter(workspace_id=workspace_id, channel_id__in=channel_ids)
        .exclude(mode=ChannelRouting.Mode.NONE)
        .order_by("id")
    }
    if not routings:
        return 0
    conversations = list(
        Conversation.objects.select_for_update()
        .filter(
            workspace_id=workspace_id,
            id__in=conversation_ids,
            assignee__isnull=True,
            channel_id__in=list(routings),
        )
        .order_by("id")
    )
    actor = system_actor(workspace)
    assigned = 0
    for conversation in conversations:
        routing = routings[conversation.channel_id]
        team_id = conversation.team_id or routing.team_id
        user_id = assignment.pick(routing, mode=routing.mode, team_id=team_id)
        if routing.team_id and conversation.team_id is None:
            conversation.team_id = routing.team_id
            conversation.save(update_fields=["team"])
        if user_id is not None:
            do_assign(actor=actor, conversation=conversation, user_id=user_id)
            assigned += 1
    return assigned


# -- business hours ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HoursFields:
    enabled: bool
    intervals: list[tuple[int, time, time]]
    away_enabled: bool
    away_text: str


# A hyphen or an en dash (U+2013) between the two times.
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-\u2013]\s*(\d{1,2}):(\d{2})\s*$")


def parse_day(text: str, weekday: int) -> list[tuple[int, time, time]]:
    """ "09:00-12:00, 13:00-17:30" for one weekday; "" is closed all day."""
    out: list[tuple[int, time, time]] = []
    for part in [p for p in text.split(",") if p.strip()]:
        match = _SPAN.match(part)
        if not match:
            raise ActionError(
                f"Write hours like 09:00-17:00 (got {part.strip()!r}).",
                code="invalid_hours",
                field=f"day_{weekday}",
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        end = time(23, 59, 59, 999999) if (h2, m2) == (24, 0) else None
        try:
            start = time(h1, m1)
            end = end or time(h2, m2)
        except ValueError:
            raise ActionError(
                f"{part.strip()!r} is not a time of day.",
                code="invalid_hours",
                field=f"day_{weekday}",
            ) from None
        out.append((weekday, start, end))
    return out


def _validate_intervals(intervals: list[tuple[int, time, time]]) -> None:
    by_day: dict[int, list[tuple[time, time]]] = {}
    for weekday, start, end in intervals:
        if not 0 <= weekday <= 6:
            raise ActionError(
                "A weekday is 0 (Monday) to 6 (Sunday).", code="invalid_hours", field="intervals"
            )
        if end <= start:
            raise ActionError(
                f"An opening must end after it starts ({start:%H:%M}-{end:%H:%M}); "
                "split one past midnight into two days.",
                code="invalid_hours",
                field=f"day_{weekday}",
            )
        by_day.setdefault(weekday, []).append((start, end))
    for weekday, spans in by_day.items():
        if len(spans) > MAX_INTERVALS_PER_DAY:
            raise ActionError(
                f"At most {MAX_INTERVALS_PER_DAY} openings a day.",
                code="invalid_hours",
                field=f"day_{weekday}",
            )
        spans.sort()
        for (_s1, e1), (s2, _e2) in itertools.pairwise(spans):
            if s2 < e1:
                raise ActionError(
                    "Openings of one day must not overlap.",
                    code="invalid_hours",
                    field=f"day_{weekday}",
                )


def _settings_row(actor: Actor) -> HoursSettings:
    row, _ = HoursSettings.objects.get_or_create(workspace=actor.workspace)
    return HoursSettings.objects.select_for_update().get(pk=row.pk)


def _bump(actor: Actor) -> None:
    HoursSettings.objects.filter(workspace=actor.workspace).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    interest.bump(actor.workspace.pk)


@transaction.atomic
def do_save_hours(*, actor: Actor, fields: HoursFields) -> HoursSettings:
    actor.require(Cap.WORKSPACE_MANAGE)
    _validate_intervals(fields.intervals)
    text = fields.away_text.strip()
    if fields.away_enabled and not text:
        raise ActionError("Write the away reply's text.", code="required", field="away_text")
    if len(text) > MAX_AWAY_TEXT:
        raise ActionError(
            f"The away reply holds up to {MAX_AWAY_TEXT} characters.",
            code="too_long",
            field="away_text",
        )
    row = _settings_row(actor)
    row.enabled = fields.enabled
    row.away_enabled = fields.away_enabled
    row.away_text = text or row.away_text
    row.save(update_fields=["enabled", "away_enabled", "away_text"])
    OpenInterval.objects.filter(workspace=actor.workspace).delete()
    OpenInterval.objects.bulk_create(
        [
            OpenInterval(workspace=actor.workspace, weekday=d, start=s, end=e)
            for d, s, e in fields.intervals
        ]
    )
    _bump(actor)
    record(actor, "routing.hours", "", enabled=fields.enabled, away_enabled=fields.away_enabled)
    row.refresh_from_db()
    return row


@transaction.atomic
def do_add_holiday(*, actor: Actor, day: date, name: str) -> Holiday:
    actor.require(Cap.WORKSPACE_MANAGE)
    name = name.strip()[:80]
    _settings_row(actor)
    if Holiday.objects.filter(workspace=actor.workspace, date=day).exists():
        raise Conflict(f"{day:%Y-%m-%d} is already a holiday.", code="holiday_taken", field="date")
    holiday = Holiday.objects.create(workspace=actor.workspace, date=day, name=name)
    _bump(actor)
    return holiday


@transaction.atomic
def do_delete_holiday(*, actor: Actor, holiday: Holiday) -> None:
    actor.require(Cap.WORKSPACE_MANAGE)
    holiday.delete()
    _bump(actor)


# -- the away reply ---------------------------------------------------------------------------


def send_away_replies(*, workspace_id: int, conversation_ids: list[int], at: datetime) -> int:
    """The job's work: one away reply per conversation per closed window.

    The AwayReply row is inserted first (ON CONFLICT DO NOTHING): only the
    transaction whose row lands queues the message, in that same transaction,
    so a retry or a second worker finds the row and sends nothing. Returns how
    many were sent."""
    plan = schedule(workspace_id)
    if not plan.enabled or not plan.away_enabled or plan.is_open(at):
        return 0
    window = plan.window_start(at)
    workspace = Workspace.objects.get(pk=workspace_id)
    actor = system_actor(workspace)
    sent = 0
    for conversation in (
        Conversation.objects.select_related("contact")
        .filter(workspace_id=workspace_id, id__in=conversation_ids)
        .order_by("id")
    ):
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO routing_awayreply"
                " (workspace_id, conversation_id, window_start, created_at)"
                " VALUES (%s, %s, %s, now())"
                " ON CONFLICT (workspace_id, conversation_id, window_start)"
                " DO NOTHING RETURNING id",
                [workspace_id, conversation.pk, window],
            )
            row = cursor.fetchone()
        if row is None:
            continue
        try:
            with transaction.atomic():
                message = do_send_text(actor=actor, conversation=conversation, text=plan.away_text)
        except ActionError as exc:
            # Quota spent or window shut: nothing to retry; the row keeps the window answered.
            log.warning("away_reply_refused", conversation_id=conversation.pk, reason=exc.message)
            continue
        AwayReply.objects.filter(pk=row[0]).update(message_id=message.pk)
        sent += 1
    return sent
