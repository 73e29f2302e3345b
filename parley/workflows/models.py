"""Workflows: a trigger and a tree of steps, edited as a draft, published as
immutable versions; runs keep the version they started with.

A step's place in its version is a path (``definition.Path``); a run's
``cursor`` is the path of the step it is on. Steps that only touch the
database commit together with the cursor moving past them, so a worker
killed mid-run resumes at the step it was on and never repeats a finished
one (see engine.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from parley.core.models import TenantModel


class Workflow(TenantModel):
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    enabled = models.BooleanField(default=False)
    # The draft being edited in the builder: {"trigger": {...}, "steps": [...]}.
    draft = models.JSONField(default=dict)
    # Copied from the live version so the event handlers find candidates by index.
    trigger_type = models.CharField(max_length=32, blank=True)
    trigger = models.JSONField(default=dict, blank=True)
    live_version = models.ForeignKey(
        "WorkflowVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # For cron triggers: the next minute it fires (UTC); the scheduler's index.
    next_fire_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["workspace", "trigger_type"],
                name="workflow_live_trigger_idx",
                condition=models.Q(enabled=True),
            ),
            models.Index(
                fields=["next_fire_at"],
                name="workflow_cron_due_idx",
                condition=models.Q(enabled=True, trigger_type="schedule"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class WorkflowVersion(TenantModel):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "workflow", "number"], name="workflow_version_number_uniq"
            )
        ]

    @property
    def trigger(self) -> dict[str, Any]:
        trigger = self.definition.get("trigger") or {}
        return trigger if isinstance(trigger, dict) else {}


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    WAITING = "waiting", "Waiting"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    STOPPED = "stopped", "Stopped"


FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.STOPPED)


class WorkflowRun(TenantModel):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(WorkflowVersion, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    conversation_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.RUNNING)
    # Path of the step to run next ("" once finished).
    cursor = models.CharField(max_length=200, blank=True)
    # What the trigger carried, and what steps saved (HTTP answers, replies).
    context = models.JSONField(default=dict)
    # Workflows whose steps caused this run: the loop guard (see triggers.py).
    chain = models.JSONField(default=list)
    # Waiting: until when (a wait step, or a question's timeout) and for what.
    wait_until = models.DateTimeField(null=True, blank=True)
    awaiting_reply = models.BooleanField(default=False)
    steps_done = models.PositiveIntegerField(default=0)
    execution_id = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "workflow", "-started_at"], name="wf_run_recent_idx"),
            # Inbound replies look here for a run waiting on that conversation.
            models.Index(
                fields=["workspace", "conversation_id"],
                name="wf_run_awaiting_idx",
                condition=models.Q(status="waiting", awaiting_reply=True),
            ),
            # The sweeper's cross-tenant look for overdue waits.
            models.Index(
                fields=["wait_until"],
                name="wf_run_wait_idx",
                condition=models.Q(status="waiting"),
            ),
        ]


class RunMinute(TenantModel):
    """Runs started per workspace per minute: the cap's counter."""

    minute = models.DateTimeField()
    started = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "minute"], name="wf_run_minute_uniq")
        ]
