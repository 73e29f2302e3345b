"""Scheduled messages: one message to one contact at a chosen time.

Each is one planned outbox item (source "scheduled", source_id = its id):
the outbox dispatcher sends it when due, checks the 24-hour window then and
falls back to a template or fails with the reason. What happened to it is the
item's state, so there is one truth, not two."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from parley.core.models import TenantModel

SOURCE = "scheduled"


class Status(models.TextChoices):
    """As shown to people; derived from the outbox item's state."""

    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled"


# outbox item state -> status. "held" (paused) is a broadcast's; here it
# would still be waiting, so it reads as scheduled.
STATUS_OF_STATE: dict[str, str] = {
    "pending": Status.SCHEDULED,
    "held": Status.SCHEDULED,
    "sending": Status.SENDING,
    "sent": Status.SENT,
    "failed": Status.FAILED,
    "skipped": Status.SKIPPED,
    "cancelled": Status.CANCELLED,
}
STATES_OF_STATUS: dict[str, tuple[str, ...]] = {
    Status.SCHEDULED: ("pending", "held"),
    Status.SENDING: ("sending",),
    Status.SENT: ("sent",),
    Status.FAILED: ("failed",),
    Status.SKIPPED: ("skipped",),
    Status.CANCELLED: ("cancelled",),
}


class Kind(models.TextChoices):
    TEXT = "text", "Text"
    TEMPLATE = "template", "Template"


class ScheduledMessage(TenantModel):
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey("whatsapp.Channel", on_delete=models.CASCADE, related_name="+")
    # Null only inside the transaction that creates it (the item names this
    # row's id, so the row comes first).
    item = models.ForeignKey(
        "outbox.OutboundItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    content = models.ForeignKey(
        "outbox.OutboundContent", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    send_at = models.DateTimeField()
    # The wall time and zone it was entered in ("2026-03-29 09:00",
    # "Europe/Berlin", or "UTC+02:00" for an API time with an offset):
    # shown back and used to prefill the edit form.
    local_time = models.CharField(max_length=19)  # ISO wall time, no offset
    timezone_name = models.CharField(max_length=64)
    # Said once about the time, e.g. the first of two 02:30s at a fall-back.
    time_note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "send_at", "id"], name="scheduled_ws_send_idx"),
            models.Index(
                fields=["workspace", "contact", "send_at"], name="scheduled_ws_contact_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"scheduled {self.pk} -> contact {self.contact_id} at {self.send_at:%Y-%m-%d %H:%M}Z"

    @property
    def status(self) -> str:
        if self.item is None:
            return Status.CANCELLED
        return STATUS_OF_STATE.get(self.item.state, Status.SCHEDULED)

    @property
    def status_label(self) -> str:
        return Status(self.status).label

    @property
    def reason(self) -> str:
        return self.item.reason if self.item is not None else "Its planned send was removed."

    @property
    def is_open(self) -> bool:
        """Still editable and cancellable (nothing has gone out)."""
        return self.status == Status.SCHEDULED
