"""The import wizard in a real browser: upload a messy CSV, check the
guessed mapping and the preview, start, watch the progress bar, get the
summary and the error file. Then an export with its download link."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, FilePayload, Page, expect
from pytest_django.live_server_helper import LiveServer

from parley.core.tenant import workspace_context
from parley.transfer import importer
from parley.transfer.models import ContactImport
from parley.transfer.tasks import run_export_job
from parley.transfer.tests.helpers import (
    contacts,
    load_import,
    messy_csv,
    seed_messy_workspace,
)
from tests.browser import CHROMIUM, DESKTOP, MOBILE, dump_failure, log_in, new_page, shot
from tests.factories import make_tenant

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def _log_in(browser: Browser, base: str, email: str, *, mobile: bool = False) -> Page:
    page = new_page(browser.new_context(viewport=MOBILE if mobile else DESKTOP))
    return log_in(page, base, email)


def test_import_wizard_from_upload_to_summary(
    browser: Browser, live_server: LiveServer, request: Any
) -> None:
    tenant = make_tenant("Alpha")
    seed_messy_workspace(tenant)
    page = _log_in(browser, live_server.url, tenant.owner.email)
    try:
        page.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Import / export"
        ).click()
        expect(page.get_by_role("heading", name="Import / export")).to_be_visible()
        shot(page, "transfer-index-empty")
        page.get_by_role("link", name="Import contacts").first.click()
        page.get_by_label("CSV or Excel (.xlsx) file").set_input_files(
            files=FilePayload(name="customers.csv", mimeType="text/csv", buffer=messy_csv())
        )
        page.get_by_role("button", name="Upload and map columns").click()

        # The guesses, and a preview that already names the problems.
        expect(page.get_by_label("Import Mobile as")).to_have_value("phone")
        expect(page.get_by_label("Import Plan as")).to_have_value("attr:plan")
        expect(page.locator("#preview")).to_contain_text("duplicate of row 2")
        expect(page.locator("#preview")).to_contain_text("+447911123456")
        # Changing a mapping refreshes the preview (htmx) without a reload.
        page.get_by_label("Import Mobile as").select_option("ignore")
        expect(page.locator("#preview")).to_contain_text("Map a column to Phone")
        page.get_by_label("Import Mobile as").select_option("phone")
        expect(page.locator("#preview")).not_to_contain_text("Map a column to Phone")
        page.get_by_label("Skip them").check()
        expect(page.locator("#preview")).to_contain_text("Skip")
        page.get_by_label("Tag everyone imported").fill("Fair 2026")
        shot(page, "transfer-mapping")
        page.get_by_role("button", name="Start import").click()
        # Queued until a worker (here: this test) picks it up. The click also
        # fires the tags field's change, so an htmx save races the start: the
        # row lock in the actions makes the start stick whichever lands first.
        expect(page.locator("#import-progress h2")).to_have_text(
            re.compile("Waiting to start…|Importing…"), timeout=20_000
        )

        with workspace_context(tenant.workspace.pk):
            import_id = ContactImport.objects.get(workspace=tenant.workspace).pk
        seen: list[str] = []

        def watch(imp: Any) -> None:
            # The page polls every second: wait until the bar shows this chunk
            # committed (however slow the machine), then note what it showed.
            bar = page.get_by_role("progressbar", name="Import progress")
            expect(bar).to_have_attribute("aria-valuenow", str(imp.percent))
            seen.append(bar.get_attribute("aria-valuenow") or "")
            if len(seen) == 2:
                shot(page, "transfer-progress")

        importer.run_import(tenant.workspace.pk, import_id, chunk_rows=3, after_chunk=watch)
        expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
        assert any(v not in ("", "0", "100") for v in seen), seen
        summary = page.locator("#import-progress")
        expect(summary).to_contain_text("5")  # created
        expect(summary).to_contain_text("skipped (existed)")
        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile("Download the 4 rejected rows")).click()
        path = download.value.path()
        assert "duplicate of row 2" in path.read_text(encoding="utf-8-sig")
        shot(page, "transfer-summary")
        imp = load_import(tenant, import_id)
        assert (imp.created, imp.skipped, imp.rejected) == (5, 1, 4)
        assert "Fair 2026" in {
            ct.tag.name for ct in contacts(tenant)["447911123456"].contact_tags.all()
        }

        # Export: the row appears, then its download link.
        page.get_by_role("link", name="Back to import / export").click()
        page.get_by_label("Excel (XLSX)").check()
        page.get_by_role("button", name="Export", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text("Export started")
        row_id = page.locator("tr[id^=export-]").first.get_attribute("id") or ""
        export_id = int(row_id.split("-")[1])
        run_export_job(workspace_id=tenant.workspace.pk, export_id=export_id)
        expect(page.get_by_role("link", name="Download")).to_be_visible()
        shot(page, "transfer-index")
        # Narrow screens: nothing spills sideways.
        mobile = _log_in(browser, live_server.url, tenant.owner.email, mobile=True)
        mobile.goto(f"{live_server.url}/w/{tenant.workspace.slug}/transfer/imports/{import_id}/")
        shot(mobile, "transfer-summary-mobile")
        overflow = mobile.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
    except Exception:
        dump_failure(request.node.name, page.context)
        raise
