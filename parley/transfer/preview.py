"""The first rows of an import, as the job will treat them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from parley.crm.models import Contact
from parley.transfer.actions import definitions_of
from parley.transfer.importer import data_records
from parley.transfer.mapping import check_mapping
from parley.transfer.models import ContactImport
from parley.transfer.rows import RowCleaner
from parley.transfer.sources import SourceError, is_blank

PREVIEW_ROWS = 20


@dataclass
class PreviewRow:
    row_number: int
    cells: list[str]
    action: str  # create, update, skip or reject
    reason: str = ""
    phone: str = ""
    name: str = ""
    email: str = ""
    tags: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)


def sample_rows(imp: ContactImport, limit: int = 5) -> list[list[str]]:
    try:
        return [
            cells
            for _n, cells in islice(
                ((n, c) for n, c in data_records(imp) if not is_blank(c)), limit
            )
        ]
    except SourceError:
        return []


def preview(imp: ContactImport, limit: int = PREVIEW_ROWS) -> list[PreviewRow]:
    """Raises ActionError when the mapping cannot work (no phone column...)."""
    definitions = definitions_of(imp.workspace_id)
    check_mapping(imp.mapping, imp.headers, definitions)
    cleaner = RowCleaner(imp.mapping, definitions, imp.options.get("default_country") or "US")
    records = [(n, c) for n, c in islice(data_records(imp), limit * 5) if not is_blank(c)][:limit]
    rows: list[PreviewRow] = []
    first: dict[str, int] = {}
    for number, cells in records:
        outcome = cleaner.clean(number, cells)
        if isinstance(outcome, str):
            rows.append(PreviewRow(number, cells, "reject", outcome))
            continue
        if outcome.wa_id in first:
            rows.append(
                PreviewRow(number, cells, "reject", f"duplicate of row {first[outcome.wa_id]}")
            )
            continue
        first[outcome.wa_id] = number
        rows.append(
            PreviewRow(
                number,
                cells,
                "create",
                phone=outcome.e164,
                name=outcome.name,
                email=outcome.email,
                tags=list(outcome.tags),
                attributes=json.loads(outcome.attributes),
            )
        )
    existing = set(
        Contact.objects.filter(
            workspace_id=imp.workspace_id, wa_id__in=[w for w in first]
        ).values_list("wa_id", flat=True)
    )
    update = bool(imp.options.get("update_existing", True))
    for row in rows:
        if row.action == "create" and row.phone[1:] in existing:
            row.action = "update" if update else "skip"
            if not update:
                row.reason = "exists already (skipped: updating is off)"
    return rows
