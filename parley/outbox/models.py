"""Business-initiated sends waiting for their time and their turn.

Broadcasts, drip steps and scheduled messages do not send by themselves: each
plans ``OutboundItem`` rows (one per contact) pointing at a shared
``OutboundContent``. One dispatcher per channel drains the due items at the
channel's throughput cap, checks consent, the 24-hour window and the
messaging-tier limit at send time, turns each item into an inbox ``Message``
and sends it. One pacing point per number is what keeps every source together
under Meta's cap.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from parley.core.models import TenantModel


class OutboundContent(TenantModel):
    """What to send: an approved template with its variable mapping, or a
    free-form text (only inside the 24-hour window), with an optional fallback
    template for when that window has closed by send time."""

    template = models.ForeignKey(
        "whatsapp.MessageTemplate",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # {"1": {"source": "field", "field": "name", "fallback": "there"}, ...}
    # (see msgtemplates.render).
    mapping = models.JSONField(default=dict, blank=True)
    text = models.TextField(blank=True)
    fallback_template = models.ForeignKey(
        "whatsapp.MessageTemplate",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    fallback_mapping = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"content {self.pk}"


class OutboundItem(TenantModel):
    class State(models.TextChoices):
        PENDING = "pending", "Queued"
        HELD = "held", "Paused"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        CANCELLED = "cancelled", "Cancelled"

    channel = models.ForeignKey("whatsapp.Channel", on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")
    content = models.ForeignKey(OutboundContent, on_delete=models.CASCADE, related_name="items")
    # Per-recipient variables (an uploaded CSV's columns), by name.
    values = models.JSONField(default=dict, blank=True)
    # Who planned it: "broadcast", "drip", "scheduled", ... and that thing's id.
    source = models.CharField(max_length=16)
    source_id = models.BigIntegerField()
    # A grouping for the source's own use (a drip's sequence); the
    # dispatcher takes single-contact sends before broadcasts, by not_before.
    lane = models.BigIntegerField(default=0)
    not_before = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    reason = models.CharField(max_length=300, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    message = models.ForeignKey(
        "inbox.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The dispatcher's queue: due items of one channel.
            models.Index(
                fields=["workspace", "channel", "not_before", "id"],
                name="outbox_due_idx",
                condition=models.Q(state="pending"),
            ),
            # Single-contact sends (drips, scheduled) go before broadcasts:
            # their own queue, so a big broadcast's rows are never scanned for them.
            models.Index(
                fields=["workspace", "channel", "not_before", "id"],
                name="outbox_due_prio_idx",
                condition=models.Q(state="pending") & ~models.Q(source="broadcast"),
            ),
            # The clock's cross-tenant skip-scan: each channel's earliest due item.
            models.Index(
                fields=["channel", "not_before"],
                name="outbox_due_any_idx",
                condition=models.Q(state="pending"),
            ),
            # Items left "sending" (a crash, an unanswered request).
            models.Index(
                fields=["claimed_at"],
                name="outbox_sending_idx",
                condition=models.Q(state="sending"),
            ),
            models.Index(
                fields=["workspace", "source", "source_id", "state"], name="outbox_src_idx"
            ),
            models.Index(fields=["workspace", "contact"], name="outbox_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.source_id} -> contact {self.contact_id} ({self.state})"


class TierContact(TenantModel):
    """A contact a channel opened a business-initiated conversation with, and
    when: Meta's messaging tier caps how many distinct customers that may be
    in any 24 hours."""

    channel = models.ForeignKey("whatsapp.Channel", on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "channel", "contact"], name="tiercontact_unique"
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "channel", "last_at"], name="tiercontact_recent_idx")
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}/{self.contact_id}"
