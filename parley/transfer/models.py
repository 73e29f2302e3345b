"""Contact imports and exports, and the per-import bookkeeping that makes an
import resumable: the chunks written (the numbers they brought, for
duplicates inside the file, and the contacts they created, for their search
words) and the rejected rows (the error file), both written in the same
transaction as the chunk of contacts they belong to."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from parley.core.models import TenantModel


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    MAPPING = "mapping", "Mapping"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"


class ContactImport(TenantModel):
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    file = models.CharField(max_length=300)  # path in default storage
    original_filename = models.CharField(max_length=255)
    format = models.CharField(max_length=8, choices=FileFormat.choices)
    size = models.BigIntegerField(default=0)
    delimiter = models.CharField(max_length=1, blank=True)
    encoding = models.CharField(max_length=20, blank=True)
    headers = models.JSONField(default=list, blank=True)
    # One target per column, in column order (see transfer.mapping).
    mapping = models.JSONField(default=list, blank=True)
    # update_existing, tags (names), default_country; tag_ids once started.
    options = models.JSONField(default=dict, blank=True)
    rows_total = models.IntegerField(default=0)
    rows_total_exact = models.BooleanField(default=False)
    rows_done = models.IntegerField(default=0)
    created = models.IntegerField(default=0)
    updated = models.IntegerField(default=0)
    skipped = models.IntegerField(default=0)
    rejected = models.IntegerField(default=0)
    # Records of the file (blank ones included) consumed by committed chunks.
    checkpoint = models.IntegerField(default=0)
    error_file = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "-created_at"], name="contactimport_ws_idx")]

    def __str__(self) -> str:
        return self.original_filename

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(self.rows_done * 100 / self.rows_total))

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)

    @property
    def elapsed(self) -> str:
        if self.started_at is None or self.finished_at is None:
            return ""
        seconds = max(0, int((self.finished_at - self.started_at).total_seconds()))
        if seconds < 60:
            return f"{seconds} s"
        return f"{seconds // 60} min {seconds % 60} s"

    @property
    def is_editable(self) -> bool:
        return self.status in (ImportStatus.UPLOADED, ImportStatus.MAPPING)


class ImportChunk(TenantModel):
    """A chunk of an import, written in the chunk's own transaction: the
    numbers it brought (with their rows) and the contacts it created.

    One row per chunk, not per number: per-row bookkeeping cost as much as
    the contacts themselves (an index entry and two foreign-key checks
    each). The running job finds in-file duplicates in a temporary table of
    its session, refilled from these arrays when a rerun resumes; the
    contacts created here get their search words after the chunk
    (``words_done``), so a rerun after a crash completes them."""

    contact_import = models.ForeignKey(
        ContactImport, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    first_row = models.IntegerField()
    wa_ids = ArrayField(models.TextField(), default=list)
    row_numbers = ArrayField(models.IntegerField(), default=list)
    created_ids = ArrayField(models.BigIntegerField(), default=list)
    words_done = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "contact_import", "first_row"], name="importchunk_unique"
            )
        ]


class ImportReject(TenantModel):
    """A row refused by an import, as it was in the file, with the reason."""

    contact_import = models.ForeignKey(
        ContactImport, on_delete=models.CASCADE, related_name="rejects"
    )
    row_number = models.IntegerField()
    cells = models.JSONField(default=list)
    reason = models.CharField(max_length=500)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "contact_import", "row_number"], name="importreject_unique"
            )
        ]


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ExportScope(models.TextChoices):
    ALL = "all", "All contacts"
    SEGMENT = "segment", "A segment"
    SEARCH = "search", "A search"


class ContactExport(TenantModel):
    status = models.CharField(
        max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    format = models.CharField(max_length=8, choices=FileFormat.choices, default=FileFormat.CSV)
    scope = models.CharField(max_length=16, choices=ExportScope.choices, default=ExportScope.ALL)
    segment_id = models.BigIntegerField(null=True, blank=True)
    query = models.CharField(max_length=100, blank=True)
    tag_id = models.BigIntegerField(null=True, blank=True)
    description = models.CharField(max_length=200, blank=True)
    file = models.CharField(max_length=300, blank=True)
    rows_total = models.IntegerField(default=0)
    rows_done = models.IntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "-created_at"], name="contactexport_ws_idx")]

    def __str__(self) -> str:
        return f"Export {self.pk}"

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(self.rows_done * 100 / self.rows_total))

    @property
    def is_active(self) -> bool:
        return self.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)

    @property
    def filename(self) -> str:
        return f"contacts-{self.created_at:%Y%m%d-%H%M}.{self.format}"
