"""Outbound webhooks: the endpoints admins register, one delivery per
(endpoint, event), and one attempt row per HTTP request made for it.

Deliveries are a queue: the sender claims due rows (``status = pending`` and
``next_attempt_at <= now``) with ``FOR UPDATE SKIP LOCKED`` and pushes their
``next_attempt_at`` forward by a lease while it sends, so a sender that dies
mid-batch leaves rows that simply fall due again.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from parley.core import crypto
from parley.core.models import TenantModel


class Endpoint(TenantModel):
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # Event types from parley.integrations.catalogue (at least one).
    events = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    # Fernet-encrypted (parley.core.crypto); receivers need the plain secret,
    # so it cannot be hashed. The previous one stays valid until its expiry.
    secret_encrypted = models.TextField()
    previous_secret_encrypted = models.TextField(blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # Failure bookkeeping: set at the first failed attempt after a success,
    # cleared by the next success; failing for the whole window disables.
    failing_since = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # The domain-event handlers' one query: a workspace's enabled endpoints.
        indexes = [models.Index(fields=["workspace", "enabled"], name="webhook_endpoint_idx")]

    def __str__(self) -> str:
        return self.url

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted)

    def secrets(self, now: object = None) -> list[str]:
        """The secrets a delivery is signed with now: the current one, and the
        previous one while its overlap lasts."""
        moment = now or timezone.now()
        found = [self.secret]
        if (
            self.previous_secret_encrypted
            and self.previous_secret_expires_at is not None
            and self.previous_secret_expires_at > moment  # type: ignore[operator]
        ):
            found.append(crypto.decrypt(self.previous_secret_encrypted))
        return found

    @property
    def secret_hint(self) -> str:
        return crypto.last4(self.secret)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    # Refused for good: a 4xx other than 408/429, a refused address, a redirect.
    FAILED = "failed", "Failed"
    # Retried for the whole window without success, or its endpoint was disabled.
    DEAD = "dead", "Dead"


class Delivery(TenantModel):
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    # One event fans out to one delivery per endpoint; the pair is unique, so
    # a fan-out job run twice creates nothing new.
    event_id = models.UUIDField(default=uuid.uuid4)
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_latency_ms = models.FloatField(null=True, blank=True)
    last_body_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)
    # Retries go on for WEBHOOKS_RETRY_WINDOW_SECONDS from here (a manual retry restarts it).
    window_start = models.DateTimeField(default=timezone.now)
    # When the event happened (committed with the change that caused it).
    event_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "endpoint", "event_id"], name="webhook_delivery_once"
            )
        ]
        indexes = [
            # The sender's claim: due pending rows, oldest first.
            models.Index(
                fields=["workspace", "next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=models.Q(status="pending"),
            ),
            # The endpoint page: its deliveries, newest first, and the 24 h health.
            models.Index(
                fields=["workspace", "endpoint", "created_at"], name="webhook_delivery_ep_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} -> {self.endpoint_id} ({self.status})"

    @property
    def event_label(self) -> str:
        from parley.integrations.catalogue import label

        return label(self.event_type)


class Attempt(TenantModel):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    url = models.CharField(max_length=500)
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField()
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    # Whether this outcome led to another try.
    will_retry = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "delivery", "number"], name="webhook_attempt_idx")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"
