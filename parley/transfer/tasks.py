"""Import and export jobs. Both take ids, manage their own transactions and
are safe to rerun: an import resumes after its checkpoint, an export
starts its file over."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from parley.core.errors import ActionError
from parley.core.jobs import tenant_task
from parley.core.tenant import workspace_context
from parley.transfer.exporter import run_export
from parley.transfer.importer import run_import
from parley.transfer.models import ContactExport, ExportStatus


@tenant_task(name="transfer.run_import", queue="transfer", atomic=False)
def run_import_job(*, workspace_id: int, import_id: int) -> None:
    run_import(workspace_id, import_id)


@tenant_task(name="transfer.run_export", queue="transfer", atomic=False)
def run_export_job(*, workspace_id: int, export_id: int) -> None:
    try:
        run_export(workspace_id, export_id)
    except (ObjectDoesNotExist, ActionError) as exc:
        # The segment was deleted or its definition no longer compiles:
        # retrying cannot help, the person must know.
        message = exc.message if isinstance(exc, ActionError) else "The segment no longer exists."
        with workspace_context(workspace_id):
            ContactExport.objects.filter(pk=export_id).update(
                status=ExportStatus.FAILED, error=message, finished_at=timezone.now()
            )
