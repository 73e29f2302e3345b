"""An admin registers an endpoint in a real browser, copies the secret, sends
a test event to a receiver on 127.0.0.1, and reads the delivery's details.
Screenshots land in test-artifacts/."""

from __future__ import annotations

import os

# Playwright's sync API runs an event loop in this thread; Django's ORM calls
# made here by fixtures would otherwise be refused.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from parley.integrations.tests.receiver import ERROR, Receiver
from tests.browser import CHROMIUM, DESKTOP, dump_failure, log_in, new_page, shot
from tests.factories import make_tenant

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def test_register_and_test_an_endpoint_in_the_browser(
    live_server: LiveServer, browser: Browser, request: pytest.FixtureRequest
) -> None:
    tenant = make_tenant("Hookco")
    ws = tenant.workspace
    page: Page = new_page(browser.new_context(viewport=DESKTOP))
    try:
        with Receiver() as receiver:
            log_in(page, live_server.url, tenant.admin.email)
            page.goto(f"{live_server.url}/w/{ws.slug}/automation/webhooks/")
            page.get_by_role("link", name="Add endpoint").first.click()
            page.get_by_label("URL").fill("http://10.0.0.5/hook")
            page.get_by_label("Contact created").check()
            page.get_by_role("button", name="Add endpoint").click()
            expect(page.get_by_text("10.0.0.5 is a private address")).to_be_visible()
            shot(page, "webhooks-refused")
            page.get_by_label("URL").fill(receiver.url)
            page.get_by_label("Description").fill("CRM sync")
            page.get_by_role("button", name="Add endpoint").click()
            secret = page.get_by_test_id("new-secret").inner_text().strip()
            assert secret.startswith("whsec_")
            receiver.secrets = [secret]
            page.get_by_role("button", name="Send test event").click()
            expect(page.get_by_text("Test event delivered: HTTP 200")).to_be_visible()
            receiver.script.append(ERROR)
            page.get_by_role("button", name="Send test event").click()
            expect(page.get_by_text("Test event not delivered: HTTP 500")).to_be_visible()
            assert [r.valid[secret] for r in receiver.received] == [True, True]
            page.locator("details.wh-delivery summary").first.click()
            expect(page.get_by_text("Attempt 1").first).to_be_visible()
            shot(page, "webhooks-endpoint")
            page.goto(f"{live_server.url}/w/{ws.slug}/automation/webhooks/")
            expect(page.get_by_text("50.0%")).to_be_visible()
            shot(page, "webhooks-index")
    except Exception:
        dump_failure(request.node.name, page.context)
        raise
