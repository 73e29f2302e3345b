"""The routing page (availability, channel assignment, teams, business hours,
holidays) and its small forms; the inbox's team picker. Thin."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from parley.inbox.access import access_conversation
from parley.routing import access, actions
from parley.routing.forms import ChannelRoutingForm, HolidayForm, HoursForm, TeamForm
from parley.routing.hours import schedule
from parley.routing.models import Holiday, OpenInterval, Team
from parley.tenancy.actor import Actor
from parley.tenancy.models import Membership
from parley.tenancy.roles import Cap, Role
from parley.tenancy.web import apply_action, flash_action, workspace_view

MANAGE = Cap.WORKSPACE_MANAGE


def _index(actor: Actor, anchor: str = "") -> str:
    url = reverse("routing_index", args=[actor.workspace.slug])
    return f"{url}#{anchor}" if anchor else url


def _people(actor: Actor) -> list[tuple[int, str]]:
    return [
        (m.user_id, m.user.display_name)
        for m in Membership.objects.filter(workspace=actor.workspace)
        .exclude(role=Role.VIEWER)
        .select_related("user")
        .order_by("user__email")
    ]


def _team_choices(actor: Actor) -> list[tuple[int, str]]:
    return list(
        Team.objects.filter(workspace=actor.workspace).order_by("name").values_list("id", "name")
    )


def _hours_form(actor: Actor, data: Any = None) -> HoursForm:
    plan = schedule(actor.workspace.pk)
    intervals = list(
        OpenInterval.objects.filter(workspace=actor.workspace).values_list(
            "weekday", "start", "end"
        )
    )
    return HoursForm(
        data,
        initial=HoursForm.initial_of(
            plan.enabled,
            plan.away_enabled,
            plan.away_text
            or "Thanks for your message! We're closed right now and will answer when we're back.",
            intervals,
        ),
    )


def _page(
    request: HttpRequest,
    actor: Actor,
    *,
    hours_form: HoursForm | None = None,
    team_form: TeamForm | None = None,
    holiday_form: HolidayForm | None = None,
    status: int = 200,
) -> HttpResponse:
    teams = _team_choices(actor)
    channels = [
        (c, ChannelRoutingForm(initial={"mode": c.mode, "team_id": c.team_id or ""}, teams=teams))
        for c in access.channel_modes(actor)
    ]
    plan = schedule(actor.workspace.pk)
    context = {
        "can_manage": actor.can(MANAGE),
        "can_work": actor.can(Cap.CONVERSATIONS_WORK),
        "agents": access.agents(actor),
        "me_available": actions.is_available(actor.workspace.pk, actor.user_id),
        "channels": channels,
        "teams": access.teams(actor),
        "team_form": team_form or TeamForm(people=_people(actor)),
        "hours_form": hours_form or _hours_form(actor),
        "holiday_form": holiday_form or HolidayForm(),
        "holidays": Holiday.objects.filter(workspace=actor.workspace).order_by("date"),
        "open_now": plan.is_open(timezone.now()),
        "hours_enabled": plan.enabled,
        "timezone": actor.workspace.timezone,
    }
    return render(request, "routing/index.html", context, status=status)


@workspace_view(Cap.WORKSPACE_READ)
@require_GET
def routing_index(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _page(request, actor)


@workspace_view(Cap.CONVERSATIONS_WORK)
@require_POST
def routing_availability(request: HttpRequest, actor: Actor) -> HttpResponseBase:
    """Available/away: one's own (any agent), anyone's (admins)."""
    raw = request.POST.get("user_id", "")
    user_id = int(raw) if raw.isdigit() else actor.user_id
    available = request.POST.get("available") == "1"
    if user_id is None:
        return redirect(_index(actor))
    flash_action(
        request,
        lambda: actions.do_set_availability(actor=actor, user_id=user_id, available=available),
        "Available for new conversations."
        if available
        else "Away: no new conversations are assigned.",
    )
    target = request.POST.get("next") or ""
    if request.htmx and target == "inbox":  # type: ignore[attr-defined]
        return HttpResponse(status=204, headers={"HX-Trigger": "refresh"})
    return redirect(_index(actor, "availability"))


@workspace_view(MANAGE)
@require_POST
def routing_channel(request: HttpRequest, actor: Actor, channel_id: int) -> HttpResponseBase:
    channel = access.access_channel(actor, channel_id)
    form = ChannelRoutingForm(request.POST, teams=_team_choices(actor))
    if not form.is_valid():
        messages.error(request, "Pick a mode and, optionally, a team.")
    else:
        flash_action(
            request,
            lambda: actions.do_set_channel_routing(
                actor=actor, channel=channel, mode=form.cleaned_data["mode"], team_id=form.team()
            ),
            f"Assignment on {channel.name} saved.",
        )
    return redirect(_index(actor, "channels"))


@workspace_view(MANAGE)
@require_POST
def routing_team_new(request: HttpRequest, actor: Actor) -> HttpResponseBase:
    form = TeamForm(request.POST, people=_people(actor))
    if form.is_valid() and apply_action(
        form,
        lambda: actions.do_create_team(
            actor=actor, name=form.cleaned_data["name"], member_ids=form.members()
        ),
    ):
        messages.success(request, f"Team {form.cleaned_data['name']} created.")
        return redirect(_index(actor, "teams"))
    return _page(request, actor, team_form=form, status=400)


@workspace_view(Cap.WORKSPACE_READ)
def routing_team_edit(request: HttpRequest, actor: Actor, team_id: int) -> HttpResponseBase:
    team = access.access_team(actor, team_id)
    view = access.team_view(actor, team)
    if request.method == "POST":
        actor.require(MANAGE)
        form = TeamForm(request.POST, people=_people(actor))
        if form.is_valid() and apply_action(
            form,
            lambda: actions.do_update_team(
                actor=actor, team=team, name=form.cleaned_data["name"], member_ids=form.members()
            ),
        ):
            messages.success(request, f"Team {team.name} saved.")
            return redirect(_index(actor, "teams"))
    else:
        form = TeamForm(
            initial={"name": team.name, "member_ids": [str(u) for u in view.member_ids]},
            people=_people(actor),
        )
    return render(
        request, "routing/team.html", {"team": team, "form": form, "can_manage": actor.can(MANAGE)}
    )


@workspace_view(MANAGE)
@require_POST
def routing_team_delete(request: HttpRequest, actor: Actor, team_id: int) -> HttpResponseBase:
    team = access.access_team(actor, team_id)
    name = team.name
    flash_action(
        request, lambda: actions.do_delete_team(actor=actor, team=team), f"Team {name} deleted."
    )
    return redirect(_index(actor, "teams"))


@workspace_view(MANAGE)
@require_POST
def routing_hours(request: HttpRequest, actor: Actor) -> HttpResponseBase:
    form = HoursForm(request.POST)
    if form.is_valid() and apply_action(
        form, lambda: actions.do_save_hours(actor=actor, fields=form.fields_value())
    ):
        messages.success(request, "Business hours saved.")
        return redirect(_index(actor, "hours"))
    return _page(request, actor, hours_form=form, status=400)


@workspace_view(MANAGE)
@require_POST
def routing_holiday_new(request: HttpRequest, actor: Actor) -> HttpResponseBase:
    form = HolidayForm(request.POST)
    if form.is_valid() and apply_action(
        form,
        lambda: actions.do_add_holiday(
            actor=actor, day=form.cleaned_data["date"], name=form.cleaned_data["name"]
        ),
    ):
        messages.success(request, "Holiday added.")
        return redirect(_index(actor, "holidays"))
    return _page(request, actor, holiday_form=form, status=400)


@workspace_view(MANAGE)
@require_POST
def routing_holiday_delete(request: HttpRequest, actor: Actor, holiday_id: int) -> HttpResponseBase:
    holiday = access.access_holiday(actor, holiday_id)
    flash_action(
        request, lambda: actions.do_delete_holiday(actor=actor, holiday=holiday), "Holiday removed."
    )
    return redirect(_index(actor, "holidays"))


@workspace_view(Cap.CONVERSATIONS_WORK)
@require_POST
def routing_conversation_team(
    request: HttpRequest, actor: Actor, conversation_id: int
) -> HttpResponseBase:
    """The inbox's team picker: hand the conversation to a team."""
    conversation = access_conversation(actor, conversation_id)
    raw = request.POST.get("team_id", "")
    team_id = int(raw) if raw.isdigit() else None
    flash_action(
        request,
        lambda: actions.do_assign_team(actor=actor, conversation=conversation, team_id=team_id),
        "Team set.",
    )
    if request.htmx:  # type: ignore[attr-defined]
        # The picker sits inside the inbox's #thread, which reloads on "refresh".
        return HttpResponse(status=204, headers={"HX-Trigger": "refresh"})
    return redirect(
        "inbox_conversation", slug=actor.workspace.slug, conversation_id=conversation.pk
    )
