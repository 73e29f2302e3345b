"""Execution logs: one row per automation run (a workflow run, a drip send, a
webhook delivery, a rule firing) with its steps.

These tables are written on hot paths (webhook deliveries by the thousand per
second), so each index here is one the viewer or the retention job needs, all
start with the workspace (the RLS policy's column), and nothing points at the
sources with a foreign key: they live in other apps, may be deleted, and a
foreign key would add a lock and a lookup to every insert.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from parley.core.models import TenantModel


class Kind(models.TextChoices):
    WORKFLOW = "workflow", "Workflow"
    DRIP = "drip", "Drip"
    WEBHOOK = "webhook", "Webhook"
    RULE = "rule", "Rule"


class Status(models.TextChoices):
    RUNNING = "running", "Running"
    WAITING = "waiting", "Waiting"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    STOPPED = "stopped", "Stopped"


class StepStatus(models.TextChoices):
    OK = "ok", "OK"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    WAITING = "waiting", "Waiting"


class Execution(TenantModel):
    # Every index below starts with the workspace; its own would be one more per insert.
    workspace = models.ForeignKey(
        "tenancy.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The workflow, drip step, webhook endpoint or rule that ran (no FK: see above).
    source_id = models.BigIntegerField(null=True, blank=True)
    # Its name at the time, so the log reads well after a rename or a delete.
    source_label = models.CharField(max_length=200, blank=True, default="")
    contact = models.ForeignKey(
        "crm.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        # The partial index below serves SET_NULL; a full one would grow with
        # every webhook delivery, which has no contact.
        db_index=False,
    )
    trigger = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)

    class Meta:
        # Every list is newest first; (started_at, id) is also the keyset cursor.
        indexes = [
            models.Index(
                "workspace",
                models.F("started_at").desc(),
                models.F("id").desc(),
                name="exec_ws_idx",
            ),
            models.Index(
                "workspace",
                "kind",
                models.F("started_at").desc(),
                models.F("id").desc(),
                name="exec_ws_kind_idx",
            ),
            models.Index(
                "workspace",
                "kind",
                "source_id",
                models.F("started_at").desc(),
                models.F("id").desc(),
                name="exec_ws_source_idx",
            ),
            models.Index(
                "workspace",
                "status",
                models.F("started_at").desc(),
                models.F("id").desc(),
                name="exec_ws_status_idx",
            ),
            models.Index(
                fields=["workspace", "contact"],
                name="exec_ws_contact_idx",
                condition=models.Q(contact__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.source_label or self.source_id} ({self.status})"


class ExecutionStep(TenantModel):
    workspace = models.ForeignKey(
        "tenancy.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    execution = models.ForeignKey(
        Execution, on_delete=models.CASCADE, related_name="steps", db_index=False
    )
    position = models.PositiveIntegerField(default=1)
    key = models.CharField(max_length=100, blank=True, default="")
    type = models.CharField(max_length=40, blank=True, default="")
    input = models.JSONField(default=dict, blank=True)
    outcome = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=StepStatus.choices, default=StepStatus.OK)
    duration_ms = models.FloatField(default=0)
    error = models.TextField(blank=True, default="")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "execution", "position"], name="exec_step_idx")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.key or self.type} ({self.status})"


class LogSettings(TenantModel):
    """The workspace's execution-log settings (a row only once changed)."""

    workspace = models.ForeignKey(
        "tenancy.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )

    DEFAULT_RETENTION_DAYS = 30
    MIN_RETENTION_DAYS = 1
    MAX_RETENTION_DAYS = 365

    retention_days = models.PositiveSmallIntegerField(default=DEFAULT_RETENTION_DAYS)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="exec_settings_one_per_ws"),
            models.CheckConstraint(
                condition=models.Q(retention_days__gte=1, retention_days__lte=365),
                name="exec_settings_retention_bounds",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.retention_days} days"


class FailureAlert(TenantModel):
    """One row per (source, hour) already alerted: the dedupe of failure alerts
    as a single INSERT ... ON CONFLICT DO NOTHING, so a source failing a
    thousand times an hour costs one cheap statement per failure, not a
    membership lookup and a notification attempt per admin."""

    pk = models.CompositePrimaryKey("workspace", "kind", "source_id", "hour")
    workspace = models.ForeignKey(
        "tenancy.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=16)
    # 0 for a run without a source (keeps the key NOT NULL).
    source_id = models.BigIntegerField()
    hour = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.kind}:{self.source_id}@{self.hour:%Y-%m-%d %H}"
