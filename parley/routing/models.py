"""Teams, agent availability, per-channel assignment, business hours and the
away reply's ledger."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from parley.core.models import TenantModel


class Team(TenantModel):
    name = models.CharField(max_length=80)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="team_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class TeamMember(TenantModel):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "team", "user"], name="teammember_unique")
        ]


class Availability(TenantModel):
    """Whether a member takes new conversations. No row means away: automatic
    assignment only ever picks someone who said they are here."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    available = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="availability_unique_user")
        ]


class ChannelRouting(TenantModel):
    """How a channel's new conversations are assigned; also the round-robin
    cursor, locked (SELECT ... FOR UPDATE) while a worker picks."""

    class Mode(models.TextChoices):
        NONE = "none", "No automatic assignment"
        ROUND_ROBIN = "round_robin", "Round robin"
        LEAST_BUSY = "least_busy", "Least busy"

    channel = models.ForeignKey("whatsapp.Channel", on_delete=models.CASCADE, related_name="+")
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.NONE)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "channel"], name="channelrouting_unique")
        ]
        indexes = [models.Index(fields=["workspace", "mode"], name="routing_ws_mode_idx")]


class HoursSettings(TenantModel):
    """One per workspace. ``version`` moves on every change to the hours,
    holidays or away reply, so processes can cache the compiled schedule."""

    enabled = models.BooleanField(default=False)
    away_enabled = models.BooleanField(default=False)
    away_text = models.TextField(
        default="Thanks for your message! We're closed right now and will answer when we're back."
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="hourssettings_unique")]


class OpenInterval(TenantModel):
    """Open from ``start`` to ``end`` on ``weekday`` (0 = Monday), local time."""

    weekday = models.PositiveSmallIntegerField()
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="openinterval_end_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6), name="openinterval_weekday_range"
            ),
        ]
        indexes = [models.Index(fields=["workspace", "weekday"], name="openinterval_ws_day_idx")]


class Holiday(TenantModel):
    date = models.DateField()
    name = models.CharField(max_length=80, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "date"], name="holiday_unique")]


class AwayReply(TenantModel):
    """The away reply sent to one conversation in one closed window. The
    unique constraint is what makes "once per window" hold under retries and
    concurrent workers: only the worker whose INSERT lands sends."""

    conversation = models.ForeignKey(
        "inbox.Conversation", on_delete=models.CASCADE, related_name="+"
    )
    # When the window closed (the end of the last open interval before it).
    window_start = models.DateTimeField()
    message_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "conversation", "window_start"], name="awayreply_unique"
            )
        ]
