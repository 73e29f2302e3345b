"""The import / export pages, and the job run by a real worker process."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from parley.core.tenant import workspace_context
from parley.transfer.models import ContactExport, ImportStatus
from parley.transfer.tasks import run_import_job
from parley.transfer.tests.helpers import (
    contacts,
    load_import,
    messy_csv,
    seed_messy_workspace,
    upload,
)
from tests.factories import Tenant


@pytest.mark.django_db
def test_wizard_pages_from_upload_to_summary(tenant_a: Tenant, login: Any) -> None:
    seed_messy_workspace(tenant_a)
    owner: Client = login(tenant_a.owner)
    base = f"/w/{tenant_a.workspace.slug}/transfer"
    assert "Upload a file" in owner.get(f"{base}/imports/new/").content.decode()
    bad = owner.post(
        f"{base}/imports/new/", {"file": SimpleUploadedFile("x.pdf", b"%PDF", "application/pdf")}
    )
    assert bad.status_code == 400 and "Upload a .csv or .xlsx file" in bad.content.decode()

    posted = owner.post(
        f"{base}/imports/new/", {"file": SimpleUploadedFile("customers.csv", messy_csv())}
    )
    assert posted.status_code == 302
    page_url = posted["Location"]
    page = owner.get(page_url).content.decode()
    assert 'value="attr:plan" selected' in page  # the Plan column guessed
    assert "duplicate of row 2" in page and "Ada Lovelace" in page
    import_id = int(page_url.rstrip("/").rsplit("/", 1)[1])

    form = {
        f"col-{i}": t
        for i, t in enumerate(["name", "phone", "email", "tags", "attr:plan", "ignore"])
    }
    form |= {"existing": "skip", "tags": "Fair 2026, Imported", "default_country": "GB"}
    no_phone = owner.post(
        f"{base}/imports/{import_id}/preview/", {**form, "col-1": "ignore"}, HTTP_HX_REQUEST="true"
    )
    assert "Map a column to Phone" in no_phone.content.decode()
    fragment = owner.post(f"{base}/imports/{import_id}/preview/", form, HTTP_HX_REQUEST="true")
    assert "Skip" in fragment.content.decode()  # the existing contact, with skipping on

    started = owner.post(page_url, {**form, "op": "start"})
    assert started.status_code == 302
    imp = load_import(tenant_a, import_id)
    assert imp.status == ImportStatus.QUEUED
    assert imp.options["tags"] == ["Fair 2026", "Imported"] and len(imp.options["tag_ids"]) == 2
    waiting = owner.get(f"{base}/imports/{import_id}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in waiting and "Waiting to start" in waiting

    run_import_job(workspace_id=tenant_a.workspace.pk, import_id=import_id)
    done = owner.get(f"{base}/imports/{import_id}/progress/").content.decode()
    assert "Import finished" in done and "every 1s" not in done
    assert f"{base}/imports/{import_id}/errors/" in done
    errors = owner.get(f"{base}/imports/{import_id}/errors/")
    assert errors.status_code == 200 and errors["Content-Type"] == "text/csv"
    assert "Fair 2026" in {
        ct.tag.name for ct in contacts(tenant_a)["447911123456"].contact_tags.all()
    }


def _listing_queries(owner: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert owner.get(url).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_index_lists_imports_and_exports_without_n_plus_one(
    tenant_a: Tenant, login: Any, django_assert_max_num_queries: Any
) -> None:
    owner: Client = login(tenant_a.owner)
    index = f"/w/{tenant_a.workspace.slug}/transfer/"

    def add(n: int) -> None:
        for i in range(n):
            upload(owner, f"list-{i}.csv", b"phone\n+447911123456\n")
        with workspace_context(tenant_a.workspace.pk):
            for _ in range(n):
                ContactExport.objects.create(workspace=tenant_a.workspace, status="done")

    add(2)
    _listing_queries(owner, index)  # the first visit also remembers the workspace
    few = (_listing_queries(owner, index), _listing_queries(owner, "/api/v1/imports"))
    add(6)
    many = (_listing_queries(owner, index), _listing_queries(owner, "/api/v1/imports"))
    assert few == many
    with django_assert_max_num_queries(20):
        text = owner.get(index).content.decode()
    assert "list-5.csv" in text and text.count("/download/") == 8
    assert len(owner.get("/api/v1/imports").json()["items"]) == 8


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_real_worker_runs_the_import(tenant_a: Tenant, login: Any) -> None:
    from tests.workers import start_worker, stop, wait_for

    seed_messy_workspace(tenant_a)
    owner: Client = login(tenant_a.owner)
    import_id = upload(owner, "customers.csv", messy_csv()).json()["id"]
    assert owner.post(f"/api/v1/imports/{import_id}/start").status_code == 200
    worker = start_worker()
    try:
        wait_for(
            lambda: load_import(tenant_a, import_id).status == ImportStatus.DONE,
            timeout=60,
            what="the import job",
        )
    finally:
        stop(worker)
    imp = load_import(tenant_a, import_id)
    assert (imp.created, imp.updated, imp.rejected) == (5, 1, 4)
    assert owner.get(f"/api/v1/imports/{import_id}/errors").status_code == 200
