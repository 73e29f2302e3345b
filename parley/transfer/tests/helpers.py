"""Shared bits of the transfer tests: a messy CSV and API shortcuts."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from parley.core.tenant import workspace_context
from parley.crm.models import AttributeDefinition, Contact, Tag
from parley.transfer.models import ContactExport, ContactImport
from tests.factories import Tenant

# What people really upload: a BOM, semicolons, CRLF, a blank line, quoted
# cells, numbers written every which way, and a few rows that must fail.
MESSY_ROWS = [
    ["Full Name", "Mobile", "E-mail", "Tags", "Plan", "Notes"],
    ["Ada Lovelace", "+44 7911 123456", "Ada@Example.com", "vip, London", "gold", "first"],
    [],
    ["Grace Hopper", "(415) 555-0199", "grace@example.com", "VIP", "silver", "has; semicolon"],
    ["Alan Turing", "0044 7911 123457", "", "", "gold", ""],
    ["Excel Number", "4.47911123458E+11", "", "", "", ""],
    ["Ada Again", "+447911123456", "dup@example.com", "", "", "same number as row 2"],
    ["Existing Person", "+1 415 555 0100", "new@example.com", "", "gold", "exists"],
    ["Bad Number", "12345", "", "", "", ""],
    ["Bad Email", "+44 7911 123459", "not-an-email", "", "", ""],
    ["Bad Plan", "+44 7911 123460", "", "", "platinum", ""],
    ["Spaces Dashes", "+44-7911 123 461", "", "", "", ""],
]
MESSY_REJECTS = {7: "duplicate of row 2", 9: "12345", 10: "not-an-email", 11: "platinum"}


def messy_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in MESSY_ROWS:
        if row:
            writer.writerow(row)
        else:
            out.write("\r\n")
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def seed_messy_workspace(tenant: Tenant) -> Contact:
    """The plan attribute, an existing VIP tag and the contact the file updates."""
    with workspace_context(tenant.workspace.pk):
        AttributeDefinition.objects.create(
            workspace=tenant.workspace,
            key="plan",
            label="Plan",
            type="choice",
            choices=["gold", "silver"],
        )
        Tag.objects.create(workspace=tenant.workspace, name="VIP")
        return Contact.objects.create(
            workspace=tenant.workspace,
            wa_id="14155550100",
            phone_e164="+14155550100",
            name="Old Name",
            attributes={"note": "kept"},
        )


def upload(client: Client, name: str, content: bytes) -> Any:
    return client.post(
        "/api/v1/imports", {"file": SimpleUploadedFile(name, content, content_type="text/csv")}
    )


def patch(client: Client, import_id: int, body: dict[str, Any]) -> Any:
    return client.patch(f"/api/v1/imports/{import_id}", body, content_type="application/json")


def load_import(tenant: Tenant, import_id: int) -> ContactImport:
    with workspace_context(tenant.workspace.pk):
        return ContactImport.objects.get(pk=import_id)


def load_export(tenant: Tenant, export_id: int) -> ContactExport:
    with workspace_context(tenant.workspace.pk):
        return ContactExport.objects.get(pk=export_id)


def contacts(tenant: Tenant) -> dict[str, Contact]:
    with workspace_context(tenant.workspace.pk):
        return {
            c.wa_id: c
            for c in Contact.objects.filter(workspace=tenant.workspace).prefetch_related(
                "contact_tags__tag"
            )
        }


def tag_names(contact: Contact) -> set[str]:
    return {ct.tag.name for ct in contact.contact_tags.all()}


def make_transfers(workspace: Any) -> tuple[ContactImport, ContactExport]:
    """A finished import (with an error file) and export, for the outsider walk."""
    imp = ContactImport.objects.create(
        workspace=workspace,
        status="done",
        file=f"ws{workspace.pk}/imports/probe.csv",
        original_filename="probe.csv",
        format="csv",
        headers=["phone"],
        mapping=["phone"],
        error_file=f"ws{workspace.pk}/imports/probe-errors.csv",
    )
    exp = ContactExport.objects.create(
        workspace=workspace, status="done", file=f"ws{workspace.pk}/exports/probe.csv"
    )
    return imp, exp
