"""WhatsApp channels (connected numbers) and the durable store of raw webhooks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from parley.core.models import TenantModel


class Channel(TenantModel):
    """One WhatsApp Business number connected through Meta's Cloud API."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DISABLED = "disabled", "Disabled"

    name = models.CharField(max_length=100)
    phone_number_id = models.CharField(max_length=40)
    waba_id = models.CharField(max_length=40)
    display_phone_number = models.CharField(max_length=32, blank=True)
    verified_name = models.CharField(max_length=200, blank=True)
    # Encrypted at rest (core.crypto); only the last four characters are shown.
    access_token_enc = models.TextField()
    access_token_hint = models.CharField(max_length=8, blank=True)
    app_secret_enc = models.TextField()
    app_secret_hint = models.CharField(max_length=8, blank=True)
    # The unguessable part of this channel's webhook URL; routes Meta's posts.
    webhook_key = models.CharField(max_length=64, unique=True)
    verify_token = models.CharField(max_length=64)
    throughput_cap = models.PositiveIntegerField(default=80)
    # Meta's messaging tier: distinct customers this number may start
    # conversations with in any 24 hours (read from Meta by "test connection").
    messaging_limit_tier = models.CharField(max_length=20, default="TIER_1K")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    # When the last dispatcher run got Meta's answers to its sends of its final
    # second (Unix times). Meta still counts those against the cap, so the
    # next run's pacing window starts with them (parley.outbox.pacing.Window).
    # Null: none.
    pacing_tail = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    last_test_ok = models.BooleanField(null=True)
    last_test_detail = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "phone_number_id"], name="channel_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.display_phone_number})"

    @property
    def tier_limit(self) -> int | None:
        """Distinct customers per 24 h, or None when unlimited."""
        return TIER_LIMITS.get(self.messaging_limit_tier, 1000)


TIER_LIMITS: dict[str, int | None] = {
    "TIER_50": 50,
    "TIER_250": 250,
    "TIER_1K": 1000,
    "TIER_10K": 10_000,
    "TIER_100K": 100_000,
    "TIER_UNLIMITED": None,
}


class WebhookEvent(TenantModel):
    """A webhook body exactly as Meta posted it, kept before anything parses it.

    ``workspace`` is null for posts to unknown channel keys: they are kept
    for the operator (visible only through the escape hatch).
    """

    class State(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        FLAGGED = "flagged", "Flagged"

    workspace = models.ForeignKey(  # type: ignore[assignment]
        "tenancy.Workspace", null=True, on_delete=models.CASCADE, related_name="+"
    )
    channel = models.ForeignKey(Channel, null=True, on_delete=models.SET_NULL, related_name="+")
    channel_key = models.CharField(max_length=64)
    body = models.BinaryField()
    received_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECEIVED)
    problem = models.CharField(max_length=300, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "state", "received_at"], name="webhook_ws_state_idx")
        ]


class MessageTemplate(TenantModel):
    """A message template as Meta knows it, synced per WhatsApp Business Account
    (through a channel). Campaigns will manage them fully; the inbox picks
    approved ones outside the 24-hour window."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="templates")
    meta_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=15)
    category = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=32)
    components = models.JSONField(default=list, blank=True)
    rejected_reason = models.CharField(max_length=300, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)
    # POSITIONAL ({{1}}) or NAMED ({{first_name}}), as submitted to Meta.
    parameter_format = models.CharField(max_length=16, default="POSITIONAL")
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    # [{"status", "reason", "at", "by"}], oldest first: submissions, edits and
    # Meta's review outcomes.
    status_history = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "channel", "name", "language"], name="template_unique_name"
            )
        ]

    @property
    def body_text(self) -> str:
        for component in self.components or []:
            if isinstance(component, dict) and str(component.get("type", "")).upper() == "BODY":
                return str(component.get("text") or "")
        return ""

    @property
    def parameter_count(self) -> int:
        import re

        return len(set(re.findall(r"\{\{\s*(\w+)\s*\}\}", self.body_text)))
