"""API shapes for contact imports and exports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema


class ImportOptionsOut(Schema):
    update_existing: bool
    tags: list[str]
    default_country: str


class ImportOut(Schema):
    id: int
    status: str = Field(description="uploaded, mapping, queued, running, done or failed")
    original_filename: str
    format: str
    encoding: str
    delimiter: str
    headers: list[str]
    mapping: list[str] = Field(
        description="One target per column: phone, name, first_name, last_name, email, tags, "
        "attr:<key> or ignore"
    )
    options: ImportOptionsOut
    rows_total: int = Field(description="An estimate until the import is done")
    rows_done: int
    percent: int
    created: int
    updated: int
    skipped: int
    rejected: int
    error: str
    errors_url: str | None = Field(description="The rejected rows as CSV, once done")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportCreatedOut(ImportOut):
    sample_rows: list[list[str]] = Field(description="The first data rows, cell by cell")


class ImportPage(Schema):
    items: list[ImportOut]
    next_cursor: str | None


class ImportUpdateIn(Schema):
    mapping: list[str] | None = Field(
        None,
        examples=[["name", "phone", "email", "tags", "attr:plan", "ignore"]],
        description="One target per column, in the file's column order",
    )
    update_existing: bool | None = Field(
        None, examples=[True], description="Update contacts that exist already, or skip them"
    )
    tags: list[str] | None = Field(
        None,
        examples=[["Imported", "Trade fair 2026"]],
        description="Tags applied to every contact imported; missing ones are created on start",
    )
    default_country: str | None = Field(
        None, examples=["GB"], description="For numbers written without a country code"
    )


class PreviewRowOut(Schema):
    row_number: int
    cells: list[str]
    action: str = Field(description="create, update, skip or reject")
    reason: str
    phone: str
    name: str
    email: str
    tags: list[str]
    attributes: dict[str, Any]


class PreviewOut(Schema):
    headers: list[str]
    mapping: list[str]
    rows: list[PreviewRowOut]


class ExportIn(Schema):
    format: str = Field("csv", examples=["xlsx"], description="csv or xlsx")
    scope: str = Field("all", examples=["segment"], description="all, segment or search")
    segment_id: int | None = Field(None, examples=[12], description="With scope=segment")
    q: str = Field(
        "", examples=["gmail.com"], description="With scope=search: name, number or email"
    )
    tag_id: int | None = Field(None, examples=[3], description="With scope=search: a tag")


class ExportOut(Schema):
    id: int
    status: str = Field(description="queued, running, done or failed")
    format: str
    scope: str
    description: str
    rows_total: int
    rows_done: int
    percent: int
    error: str
    download_url: str | None
    created_at: datetime
    finished_at: datetime | None


class ExportPage(Schema):
    items: list[ExportOut]
    next_cursor: str | None
