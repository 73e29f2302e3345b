"""The live inbox in two browsers at once, as a team would use it: a customer
writes through the Cloud API simulator, both agents see it arrive without
reloading, one answers, the other sees the answer and the customer's phone
receives it. Served by the real ASGI application (live updates need it)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from parley.core.crypto import decrypt
from parley.core.tenant import workspace_context
from parley.whatsapp.simulator.server import BackgroundServer, SimulatorHandle
from tests.browser import CHROMIUM, DESKTOP, dump_failure, launch, new_page, shot
from tests.factories import PASSWORD, Tenant, make_channel, make_tenant
from tests.workers import start_worker, stop

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]

CUSTOMER = "15558675309"
LIVE_MS = 5_000  # generous for a loaded CI machine; the SSE test measures < 1 s


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


def _log_in(browser: Browser, base: str, email: str) -> Page:
    page = new_page(browser.new_context(viewport=DESKTOP))
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/w/[a-z0-9-]+/$"))
    return page


def _connect(tenant: Tenant, sim: SimulatorHandle, base: str) -> Any:
    channel = make_channel(tenant)
    with workspace_context(tenant.workspace.pk):
        token = decrypt(channel.access_token_enc)
    sim.control.register_number(
        channel.phone_number_id,
        access_token=token,
        app_secret="app-secret-123",
        webhook_url=f"{base}/webhooks/whatsapp/{channel.webhook_key}",
        waba_id=channel.waba_id,
    )
    return channel


def test_two_agents_see_the_conversation_live_and_one_answers(
    browser: Browser, asgi_server: BackgroundServer, sim: SimulatorHandle, request: Any
) -> None:
    tenant = make_tenant("Alpha")
    base = asgi_server.url
    channel = _connect(tenant, sim, base)
    owner = _log_in(browser, base, tenant.owner.email)
    agent = _log_in(browser, base, tenant.agent.email)
    worker = start_worker(WHATSAPP_GRAPH_URL=sim.graph_url)
    try:
        slug = tenant.workspace.slug
        for page in (owner, agent):
            page.goto(f"{base}/w/{slug}/inbox/?status=all")
            expect(page.get_by_text("No conversations here yet.")).to_be_visible()
        sim.control.inbound(
            channel.phone_number_id,
            CUSTOMER,
            name="Rosa",
            text={"body": "Do you deliver on Sundays?"},
        )
        for page in (owner, agent):  # no reload: the list refreshes from the event stream
            expect(page.locator("a[data-conversation]").first).to_contain_text(
                "Rosa", timeout=LIVE_MS
            )
        owner.locator("a[data-conversation]").first.click()
        agent.locator("a[data-conversation]").first.click()
        expect(agent.locator(".bubble.in")).to_contain_text("Do you deliver on Sundays?")
        agent.get_by_label("Reply", exact=True).fill("Yes, from 9 to 12.")
        agent.keyboard.press("Enter")
        expect(owner.locator(".bubble.out")).to_contain_text("Yes, from 9 to 12.", timeout=LIVE_MS)
        expect(owner.locator(".bubble.out .ticks")).to_have_attribute(
            "title", re.compile(r"^(sent|delivered|read)$"), timeout=LIVE_MS
        )
        shot(owner, "inbox-owner-live")
        shot(agent, "inbox-agent-answered")
        phone = sim.control.messages(channel.phone_number_id, to=CUSTOMER)
        assert [m["text"] for m in phone] == ["Yes, from 9 to 12."]
    except Exception:
        dump_failure(request.node.name, owner.context, agent.context)
        raise
    finally:
        sim.control.wait_idle(10)
        stop(worker)
