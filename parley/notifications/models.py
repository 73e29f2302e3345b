"""Models of the notifications app: one row per thing one person should see."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from parley.core.models import TenantModel


class Notification(TenantModel):
    class Kind(models.TextChoices):
        MENTION = "mention", "Mention"
        TASK_DUE = "task_due", "Task due"
        TASK_ASSIGNED = "task_assigned", "Task assigned"
        ASSIGNED = "assigned", "Conversation assigned"
        OTHER = "other", "Other"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    # Makes notifying idempotent: a retried job or a re-saved note does not
    # notify twice for the same thing ("" means no deduplication).
    dedupe_key = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "user", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notification_unique_dedupe",
            )
        ]
        indexes = [
            models.Index(
                fields=["workspace", "user", "-created_at"], name="notification_user_recent_idx"
            ),
            models.Index(
                fields=["workspace", "user"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
        ]
