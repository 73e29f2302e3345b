"""Deals move through the stages of a pipeline until they are won or lost."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from parley.core.models import TenantModel


class Pipeline(TenantModel):
    name = models.CharField(max_length=80)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="pipeline_unique_name")
        ]
        indexes = [models.Index(fields=["workspace", "position"], name="pipeline_ws_pos_idx")]

    def __str__(self) -> str:
        return self.name


class Stage(TenantModel):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=80)
    position = models.PositiveIntegerField(default=0)
    # Percent; weights the forecast. None: no estimate for this stage.
    probability = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "pipeline", "name"], name="stage_unique_name"
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "pipeline", "position"], name="stage_ws_pos_idx")
        ]

    def __str__(self) -> str:
        return self.name


class DealStatus(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class Deal(TenantModel):
    title = models.CharField(max_length=200)
    # A deal outlives its contact's deletion: the history still counts.
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    # PROTECT: a stage or pipeline is emptied on purpose (do_delete_stage), never by cascade.
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="USD")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expected_close_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=DealStatus.choices, default=DealStatus.OPEN)
    lost_reason = models.CharField(max_length=300, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Order within its stage on the board (lower first, ties by id).
    position = models.IntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["workspace", "stage", "position"],
                condition=models.Q(status="open"),
                name="deal_board_idx",
            ),
            models.Index(fields=["workspace", "contact"], name="deal_ws_contact_idx"),
            models.Index(fields=["workspace", "status", "closed_at"], name="deal_ws_closed_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class DealEvent(TenantModel):
    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STAGE_CHANGED = "stage_changed", "Stage changed"
        VALUE_CHANGED = "value_changed", "Value changed"
        OWNER_CHANGED = "owner_changed", "Owner changed"
        WON = "won", "Won"
        LOST = "lost", "Lost"
        REOPENED = "reopened", "Reopened"
        EDITED = "edited", "Edited"

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # {"from": ..., "to": ...} as shown to people (names, not ids, so history
    # still reads right after a stage is renamed or a member leaves).
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["workspace", "deal", "-at"], name="dealevent_ws_deal_idx")]
