"""API shapes for teams, assignment, availability and business hours."""

from __future__ import annotations

import datetime as dt
from datetime import datetime, time
from typing import Literal

from ninja import Field, Schema

ModeName = Literal["none", "round_robin", "least_busy"]


class TeamOut(Schema):
    id: int
    name: str
    member_ids: list[int]


class TeamIn(Schema):
    name: str = Field(examples=["Billing"])
    member_ids: list[int] = Field(
        default_factory=list, examples=[[4, 9]], description="Users: agents, admins or owners"
    )


class TeamUpdateIn(Schema):
    name: str | None = Field(None, examples=["Billing & refunds"])
    member_ids: list[int] | None = Field(None, examples=[[4, 9, 11]])


class ChannelRoutingOut(Schema):
    channel_id: int
    channel_name: str
    mode: str
    team_id: int | None
    last_user_id: int | None = Field(description="Who round robin picked last")


class ChannelRoutingIn(Schema):
    """New conversations on the channel get an available agent: in turn
    (round_robin) or the one with the fewest open conversations (least_busy),
    from ``team_id`` when given."""

    mode: ModeName = Field(examples=["round_robin"])
    team_id: int | None = Field(None, examples=[3])


class AvailabilityOut(Schema):
    user_id: int
    name: str
    email: str
    role: str
    available: bool


class AvailabilityIn(Schema):
    available: bool = Field(examples=[True])
    user_id: int | None = Field(
        None, examples=[None], description="Someone else (admins only); omit for yourself"
    )


class IntervalSchema(Schema):
    weekday: int = Field(examples=[0], ge=0, le=6, description="0 = Monday")
    start: time = Field(examples=["09:00"])
    end: time = Field(examples=["17:30"], description="After start; the workspace's time zone")


class HoursOut(Schema):
    enabled: bool
    timezone: str
    intervals: list[IntervalSchema]
    away_enabled: bool
    away_text: str
    open_now: bool


class HoursIn(Schema):
    enabled: bool = Field(examples=[True], description="Off: the workspace counts as always open")
    intervals: list[IntervalSchema] = Field(
        default_factory=list,
        examples=[[{"weekday": d, "start": "09:00", "end": "17:30"} for d in range(5)]],
    )
    away_enabled: bool = Field(False, examples=[True])
    away_text: str = Field(
        "", examples=["Thanks! We're closed now and will answer tomorrow from 9:00."]
    )


class HolidayOut(Schema):
    id: int
    date: dt.date
    name: str


class HolidayIn(Schema):
    date: dt.date = Field(examples=["2026-12-25"])
    name: str = Field("", examples=["Christmas Day"])


class ConversationTeamIn(Schema):
    team_id: int | None = Field(examples=[3], description="None takes the team off")


class ConversationTeamOut(Schema):
    conversation_id: int
    team_id: int | None
    assignee_id: int | None


class OpenAtOut(Schema):
    at: datetime
    open: bool
