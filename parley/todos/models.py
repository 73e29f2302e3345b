"""Tasks: things a member must do, by a time, often about a contact or a deal."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from parley.core.models import TenantModel


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class Task(TenantModel):
    title = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A task outlives the contact or deal it was about: the work may still matter.
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    deal = models.ForeignKey(
        "deals.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    status = models.CharField(max_length=8, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Set when the assignee was told the task fell due; cleared when due_at
    # changes, so a rescheduled task reminds again.
    due_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["workspace", "assignee", "status", "due_at"], name="task_ws_assignee_idx"
            ),
            models.Index(fields=["workspace", "status", "due_at"], name="task_ws_status_idx"),
            models.Index(fields=["workspace", "contact"], name="task_ws_contact_idx"),
            models.Index(fields=["workspace", "deal"], name="task_ws_deal_idx"),
            # The due-reminder scheduler scans every workspace (no workspace
            # prefix on purpose): only the tasks still waiting for a reminder.
            models.Index(
                fields=["due_at"],
                condition=models.Q(status="open", due_notified_at__isnull=True),
                name="task_due_reminder_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title
