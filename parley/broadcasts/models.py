"""Broadcasts: one approved template sent to an audience (a segment, tags or
an uploaded CSV) now or at a set time. Sending is the outbox's: a started
broadcast plans one OutboundItem per recipient and follows their states."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from parley.core.models import TenantModel


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class AudienceKind(models.TextChoices):
    SEGMENT = "segment", "A segment"
    TAGS = "tags", "Contacts with any of these tags"
    CSV = "csv", "An uploaded CSV file"


class Broadcast(TenantModel):
    name = models.CharField(max_length=120)
    channel = models.ForeignKey("whatsapp.Channel", on_delete=models.CASCADE, related_name="+")
    template = models.ForeignKey(
        "whatsapp.MessageTemplate",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The template's variables, as msgtemplates.render reads them.
    mapping = models.JSONField(default=dict, blank=True)
    # What the outbox sends; created when the broadcast starts (the mapping is frozen then).
    content = models.ForeignKey(
        "outbox.OutboundContent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    audience_kind = models.CharField(
        max_length=8, choices=AudienceKind.choices, default=AudienceKind.SEGMENT
    )
    segment = models.ForeignKey(
        "segments.Segment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # crm.Tag ids: a contact with any of them is in the audience.
    tag_ids = models.JSONField(default=list, blank=True)
    # The uploaded file (a path in default storage) and what its sniffing found.
    csv_file = models.CharField(max_length=300, blank=True)
    csv_filename = models.CharField(max_length=255, blank=True)
    csv_format = models.CharField(max_length=8, blank=True)
    csv_encoding = models.CharField(max_length=20, blank=True)
    csv_delimiter = models.CharField(max_length=1, blank=True)
    csv_header = models.JSONField(default=list, blank=True)
    csv_phone_column = models.CharField(max_length=200, blank=True)
    csv_rows_estimate = models.IntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    audience_size = models.IntegerField(default=0)
    skipped_opted_out = models.IntegerField(default=0)
    skipped_invalid = models.IntegerField(default=0)
    skipped_duplicate = models.IntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["workspace", "-id"], name="broadcast_ws_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_draft(self) -> bool:
        return self.status == Status.DRAFT

    @property
    def shown_status(self) -> str:
        """Scheduled turns into sending when its time comes; the first items
        that finish record it (see actions.on_items_finished)."""
        if (
            self.status == Status.SCHEDULED
            and self.scheduled_at is not None
            and self.scheduled_at <= timezone.now()
        ):
            return Status.SENDING
        return self.status

    @property
    def shown_status_label(self) -> str:
        return str(Status(self.shown_status).label)

    @property
    def skipped_total(self) -> int:
        return self.skipped_opted_out + self.skipped_invalid + self.skipped_duplicate
