"""Scheduling in a real browser: find the contact by typing, pick a template
and map its variables (loaded by htmx), schedule in the workspace's zone,
see it listed, cancel it. Screenshots land in test-artifacts/."""

from __future__ import annotations

import os

# Playwright's sync API runs an event loop in this thread; Django's ORM calls
# made here by fixtures would otherwise be refused.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect
from pytest_django.live_server_helper import LiveServer

from parley.core.tenant import workspace_context
from parley.scheduled.models import ScheduledMessage
from parley.scheduled.tests.helpers import make_world, next_year
from tests.browser import CHROMIUM, DESKTOP, dump_failure, log_in, new_page, shot
from tests.factories import make_tenant

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def test_schedule_a_template_then_cancel(
    live_server: LiveServer, browser: Browser, request: pytest.FixtureRequest
) -> None:
    tenant = make_tenant("Harbour")
    world = make_world(tenant, "Europe/Berlin", wa_id="4915112345678")
    ws = tenant.workspace
    y = next_year()
    context = browser.new_context(viewport=DESKTOP)
    page: Page = new_page(context)
    try:
        log_in(page, live_server.url, tenant.agent.email)
        page.goto(f"{live_server.url}/w/{ws.slug}/scheduled/new/")
        page.get_by_placeholder("Find a contact by name, number or email…").fill("Ann")
        page.get_by_label("Ann Customer").check()
        page.get_by_label("When").fill(f"{y}-07-01T09:30")
        page.get_by_label("An approved template").check()
        expect(page.get_by_label("Text", exact=True)).to_be_hidden()
        page.get_by_label("Template", exact=True).select_option(str(world.template.pk))
        expect(page.locator("#sm-var-fields")).to_contain_text("{{2}}")
        page.get_by_label("Value of {{2}} from").select_option("static")
        page.get_by_label("Fixed value of {{2}}").fill("Friday 10:00")
        shot(page, "scheduled-01-form")
        page.get_by_role("button", name="Schedule", exact=True).click()
        expect(page.locator(".messages")).to_contain_text(
            f"Scheduled for Thu 1 Jul {y}, 09:30 CEST"
        )
        row = page.locator("tbody tr").first
        expect(row).to_contain_text("Ann Customer")
        expect(row).to_contain_text("Hi Ann, your appointment is on Friday 10:00.")
        shot(page, "scheduled-02-list")
        with workspace_context(ws.pk):
            scheduled = ScheduledMessage.objects.get()
        assert scheduled.send_at == datetime(y, 7, 1, 7, 30, tzinfo=UTC)

        def confirm(dialog: Dialog) -> None:
            assert "Cancel this message to Ann Customer" in dialog.message
            dialog.accept()

        page.once("dialog", confirm)
        row.get_by_role("button", name="Cancel").click()
        expect(page.locator(".messages")).to_contain_text("Cancelled")
        expect(page.locator(".card")).to_contain_text("Nothing scheduled.")
        page.goto(f"{live_server.url}/w/{ws.slug}/contacts/{world.contact.pk}/")
        expect(page.locator("#timeline")).to_contain_text("Scheduled message cancelled")
        shot(page, "scheduled-03-contact")
    except Exception:
        dump_failure(request.node.name, context)
        raise
    finally:
        context.close()
