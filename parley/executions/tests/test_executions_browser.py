"""The execution log in a real browser: the chart, the failure count, a
filter, a row expanding (htmx) into its trigger and steps with the error
highlighted, a step's JSON unfolded. Screenshots land in test-artifacts/."""

from __future__ import annotations

import os

# Playwright's sync API runs an event loop in this thread; Django's ORM calls
# made here by fixtures would otherwise be refused.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.executions.tests.helpers import record
from tests.browser import CHROMIUM, DESKTOP, dump_failure, log_in, new_page, shot
from tests.factories import make_tenant

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def test_viewer_filters_and_expands_a_failed_run(
    live_server: LiveServer, browser: Browser, request: pytest.FixtureRequest
) -> None:
    tenant = make_tenant("Logco")
    ws = tenant.workspace
    with workspace_context(ws.pk):
        ana = Contact.objects.create(workspace=ws, wa_id="351912345602", name="Ana Souza")
    now = timezone.now()
    for hours in range(0, 20, 3):
        for i in range(hours % 4 + 1):
            record(
                tenant,
                kind="webhook",
                source_id=4,
                label="CRM sync",
                at=now - timedelta(hours=hours, minutes=i),
            )
    record(
        tenant,
        kind="drip",
        source_id=2,
        label="Trial nurture",
        status="stopped",
        error="Skipped: the contact lacks the tag.",
        at=now - timedelta(hours=5),
    )
    failed = record(
        tenant,
        source_id=9,
        label="Lead intake",
        status="failed",
        error="HTTP call: POST http://127.0.0.1:9/hook returned 500",
        contact_id=ana.pk,
        trigger={"event": "message.received", "text": "I want a quote", "message_id": 812},
        at=now - timedelta(minutes=2),
        steps=[
            {
                "key": "tag_lead",
                "type": "add_tag",
                "input": {"tag": "lead"},
                "outcome": {"added": True},
                "duration_ms": 2.1,
            },
            {
                "key": "notify_crm",
                "type": "http_call",
                "input": {"method": "POST", "url": "http://127.0.0.1:9/hook"},
                "outcome": {"status": 500, "body_excerpt": "Internal error"},
                "status": "failed",
                "error": "returned 500",
                "duration_ms": 812,
            },
        ],
    )
    page: Page = new_page(browser.new_context(viewport=DESKTOP))
    try:
        log_in(page, live_server.url, tenant.admin.email)
        page.goto(f"{live_server.url}/w/{ws.slug}/automation/logs/")
        expect(page.get_by_test_id("failures-24h")).to_have_text("1 failure in the last 24 h")
        expect(page.locator(".ex-chart svg rect").first).to_be_visible()
        shot(page, "executions-index")

        page.get_by_label("Status").select_option("failed")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator(".ex-row")).to_have_count(1)
        row = page.locator(f'.ex-row[data-execution="{failed}"]')
        row.locator("summary").click()
        # htmx swaps the details in: the trigger, the steps, the error highlighted.
        details = page.locator(f"#execution-{failed}-details")
        expect(details).to_contain_text("I want a quote")
        expect(details.locator(".ex-step.failed")).to_contain_text("returned 500")
        expect(details.locator(".ex-error").first).to_contain_text("returned 500")
        details.locator(".ex-step.failed .ex-json summary", has_text="Outcome").click()
        expect(details.locator(".ex-step.failed pre").last).to_contain_text(
            '"body_excerpt": "Internal error"'
        )
        shot(page, "executions-expanded")

        page.get_by_role("link", name="1 failure in the last 24 h").click()
        expect(page.locator(".ex-row")).to_have_count(1)
        page.goto(f"{live_server.url}/w/{ws.slug}/automation/logs/{failed}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Lead intake")
        shot(page, "executions-detail")
    except Exception:
        dump_failure(request.node.name, page.context)
        raise
