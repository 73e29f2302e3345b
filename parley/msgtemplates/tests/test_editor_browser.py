"""The template editor in a real browser: the WhatsApp preview follows the typing,
example inputs appear for new variables without losing what was typed, and the
template is submitted to the simulator. Screenshots land in test-artifacts/."""

from __future__ import annotations

import os

# Playwright's sync API runs an event loop in this thread; Django's ORM calls
# made here by fixtures would otherwise be refused.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from parley.msgtemplates.tests.helpers import connect
from parley.whatsapp.simulator.server import SimulatorHandle
from tests.browser import CHROMIUM, DESKTOP, dump_failure, log_in, new_page, shot
from tests.factories import make_tenant

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def test_live_preview_and_submit(
    sim: SimulatorHandle, browser: Browser, live_server: Any, settings: Any
) -> None:
    settings.WHATSAPP_GRAPH_URL = sim.graph_url
    sim.control.settings(template_review_seconds=3600, webhook_max_attempts=1)
    tenant = make_tenant("Alpha")
    channel = connect(tenant, sim)
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = new_page(context)
        log_in(page, live_server.url, tenant.admin.email)
        page.goto(f"{live_server.url}/w/{tenant.workspace.slug}/templates/new/")
        page.get_by_label("Name", exact=True).fill("order_ready")
        page.get_by_label("Category").select_option("UTILITY")
        page.get_by_label("Header", exact=True).select_option("TEXT")
        page.get_by_label("Header text").fill("Order {{1}}")
        preview = page.locator("#tpl-preview")
        page.get_by_label("Body").fill("Hi {{1}}, order {{2}} is ready.")
        example = page.locator("#example-1")
        expect(example).to_be_visible()
        example.fill("Ann")
        expect(preview).to_contain_text("Hi Ann, order {{2}} is ready.")
        page.locator("#example-2").fill("A-77")
        page.locator("#example-header").fill("A-77")
        expect(preview).to_contain_text("Order A-77")
        expect(preview).to_contain_text("Hi Ann, order A-77 is ready.")
        # A new variable adds its example input; what was typed stays.
        page.get_by_label("Body").fill("Hi {{1}}, order {{2}} is ready at {{3}}.")
        expect(page.locator("#example-3")).to_be_visible()
        expect(page.locator("#example-1")).to_have_value("Ann")
        page.locator("#example-3").fill("Main St")
        expect(preview).to_contain_text("is ready at Main St.")
        page.locator("#button-0-type").select_option("QUICK_REPLY")
        page.locator("#button-0-text").fill("Thanks!")
        expect(preview).to_contain_text("Thanks!")
        shot(page, "msgtemplates-editor")
        page.get_by_role("button", name="Submit to Meta for review").click()
        expect(page.locator("h1")).to_contain_text("order_ready")
        expect(page.locator(".messages")).to_contain_text("Meta is reviewing it")
        page.locator("#sample-1").fill("Zoe")
        expect(page.locator("#tpl-preview")).to_contain_text("Hi Zoe, order A-77")
        shot(page, "msgtemplates-detail")
        [at_meta] = sim.control.templates(channel.waba_id)
        assert at_meta["components"][1]["example"] == {"body_text": [["Ann", "A-77", "Main St"]]}
    except Exception:
        dump_failure("msgtemplates_editor", context)
        raise
    finally:
        context.close()
