"""The routing page in a real browser: an agent goes available from the
inbox, an admin sets a channel to round robin and business hours; the next
new conversation lands on the agent and shows in the inbox. Served by the
real ASGI application: the inbox holds a live (SSE) connection, which a
threaded WSGI test server would keep open past the test. Screenshots land
in test-artifacts/."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from parley.core.tenant import workspace_context
from parley.inbox.models import Conversation
from parley.routing.models import Availability
from parley.routing.tests.helpers import inbound, run_jobs
from tests.browser import CHROMIUM, DESKTOP, dump_failure, launch, log_in, new_page, shot
from tests.factories import make_channel, make_tenant

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


def test_availability_mode_hours_and_assignment(
    asgi_server: Any, browser: Browser, request: pytest.FixtureRequest
) -> None:
    base = asgi_server.url
    tenant = make_tenant("Routeco")
    channel = make_channel(tenant)
    ws = tenant.workspace
    inbound(tenant, channel, wa_id="15550050001", body="first customer")
    with workspace_context(ws.pk):
        first = Conversation.objects.get()
    agent_page: Page = new_page(browser.new_context(viewport=DESKTOP))
    admin_page: Page = new_page(browser.new_context(viewport=DESKTOP))
    try:
        # The agent goes available from the inbox's thread header.
        log_in(agent_page, base, tenant.agent.email)
        agent_page.goto(f"{base}/w/{ws.slug}/inbox/{first.pk}/")
        agent_page.get_by_role("button", name="○ Away").click()
        expect(agent_page.get_by_role("button", name="● Available")).to_be_visible()
        shot(agent_page, "routing-inbox-thread")
        with workspace_context(ws.pk):
            assert Availability.objects.get(user=tenant.agent).available

        log_in(admin_page, base, tenant.admin.email)
        admin_page.goto(f"{base}/w/{ws.slug}/automation/routing/")
        admin_page.get_by_label(f"Mode for {channel.name}").select_option("round_robin")
        admin_page.locator("#channels").get_by_role("button", name="Save").click()
        expect(admin_page.get_by_text(f"Assignment on {channel.name} saved.")).to_be_visible()
        admin_page.get_by_label("Use business hours").check()
        admin_page.get_by_label("Monday").fill("09:00-12:30, 13:30-18:00")
        admin_page.get_by_role("button", name="Save hours").click()
        expect(admin_page.get_by_text("Business hours saved.")).to_be_visible()
        expect(admin_page.get_by_label("Monday")).to_have_value("09:00-12:30, 13:30-18:00")
        shot(admin_page, "routing-page")

        inbound(tenant, channel, wa_id="15550050002", body="second customer")
        run_jobs("routing.assign_new")
        agent_page.goto(f"{base}/w/{ws.slug}/inbox/?view=mine")
        expect(agent_page.locator(".conversations")).to_contain_text("second customer")
        shot(agent_page, "routing-inbox-mine")
    except Exception:
        dump_failure(request.node.name, agent_page.context, admin_page.context)
        raise
