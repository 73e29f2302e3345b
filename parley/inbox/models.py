"""Conversations and their messages, notes and quick replies."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from parley.core.models import TenantModel


class Conversation(TenantModel):
    """The thread between one contact and one channel (one per pair)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        SNOOZED = "snoozed", "Snoozed"
        RESOLVED = "resolved", "Resolved"

    contact = models.ForeignKey(
        "crm.Contact", on_delete=models.CASCADE, related_name="conversations"
    )
    channel = models.ForeignKey("whatsapp.Channel", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The team handling it (routing.Team), set by assignment rules or an agent.
    team = models.ForeignKey(
        "routing.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)
    # Opens the 24-hour customer-service window.
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_message_preview = models.CharField(max_length=200, blank=True)
    unread_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "contact", "channel"], name="conversation_unique_pair"
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "-last_message_at"], name="conv_ws_recent_idx"),
            models.Index(
                fields=["workspace", "status", "-last_message_at"], name="conv_ws_status_idx"
            ),
            models.Index(
                fields=["workspace", "assignee", "-last_message_at"], name="conv_ws_assignee_idx"
            ),
            # Segments: "has an open conversation" without touching the heap.
            models.Index(
                fields=["workspace", "status", "contact"], name="conv_ws_status_contact_idx"
            ),
        ]


class Message(TenantModel):
    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    class Status(models.TextChoices):
        # Outbound lifecycle; the order is the rank a status may only climb.
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        FAILED = "failed", "Failed"
        RECEIVED = "received", "Received"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    # Meta's id; unique per workspace, which is what deduplicates redeliveries.
    wamid = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001  (NULL until sent)
    type = models.CharField(max_length=32, default="text")
    text = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    error_code = models.IntegerField(null=True, blank=True)
    error_reason = models.CharField(max_length=500, blank=True)
    # Both indexed only where set (see Meta): most messages (every inbound
    # one, every broadcast) have neither, and each index entry is work on the
    # busiest table's inserts and non-HOT updates.
    reply_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # Sent as biz_opaque_callback_data: ties Meta's statuses to this row even
    # if the process died between Meta's answer and saving the wamid.
    idempotency_key = models.UUIDField(default=uuid.uuid4)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "wamid"],
                condition=models.Q(wamid__isnull=False),
                name="message_unique_wamid",
            ),
            models.UniqueConstraint(
                fields=["workspace", "idempotency_key"], name="message_unique_idempotency"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "conversation", "-id"], name="msg_ws_conv_idx"),
            # For the foreign keys' ON DELETE SET NULL (a deleted user or message).
            models.Index(
                fields=["reply_to"],
                condition=models.Q(reply_to__isnull=False),
                name="msg_reply_to_idx",
            ),
            models.Index(
                fields=["sent_by"],
                condition=models.Q(sent_by__isnull=False),
                name="msg_sent_by_idx",
            ),
        ]


class Note(TenantModel):
    """A private note in a conversation, seen by the team only."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    mentions = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["workspace", "conversation", "created_at"], name="note_ws_conv_idx"
            )
        ]


class QuickReply(TenantModel):
    shortcut = models.SlugField(max_length=40)
    title = models.CharField(max_length=100)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "shortcut"], name="quickreply_unique_shortcut"
            )
        ]


class MonthlyUsage(TenantModel):
    """Outbound messages counted against the workspace's monthly quota."""

    month = models.DateField()  # the first day of the month
    outbound = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "month"], name="usage_unique_month")
        ]


class ConversationTag(TenantModel):
    """A workspace tag (crm.Tag) on a conversation, e.g. "billing" or "urgent"."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="tags")
    tag = models.ForeignKey("crm.Tag", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "conversation", "tag"], name="conversationtag_unique"
            )
        ]
        indexes = [models.Index(fields=["workspace", "tag"], name="convtag_ws_tag_idx")]
