"""A marketer builds a segment in a real browser and watches the live count."""

from __future__ import annotations

import os

# Playwright's sync API runs an event loop in this thread; fixtures' ORM calls
# would otherwise be refused.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from parley.core.tenant import workspace_context
from parley.segments.models import Segment
from parley.segments.tests.world import build_world
from tests.browser import CHROMIUM, DESKTOP, MOBILE, dump_failure, log_in, new_page, shot
from tests.factories import make_tenant

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def settled(page: Page) -> None:
    """Wait until htmx has no request in flight (a row being redrawn)."""
    expect(page.locator(".htmx-request")).to_have_count(0)


def test_build_a_segment_and_watch_the_count(live_server: LiveServer, browser: Browser) -> None:
    tenant = make_tenant("Alpha")
    build_world(tenant)
    context = browser.new_context(viewport=DESKTOP)
    page = new_page(context)
    try:
        log_in(page, live_server.url, tenant.agent.email)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Segments").click()
        page.get_by_role("link", name="New segment").click()
        count = page.locator("#preview .preview-count")
        expect(count).to_have_text("3 contacts match")

        page.get_by_role("button", name="+ Add condition").click()
        first = page.locator(".cond-row").nth(0)
        expect(first.get_by_label("What to test")).to_be_focused()
        first.get_by_label("Lead").check()
        expect(count).to_have_text("2 contacts match")

        page.keyboard.press("Shift+Tab")  # back through the row to the add button
        page.get_by_role("button", name="+ Add condition").focus()
        page.keyboard.press("Enter")
        second = page.locator(".cond-row").nth(1)
        expect(second.get_by_label("What to test")).to_be_focused()
        second.get_by_label("What to test").select_option(label="Seats")
        settled(page)
        expect(second.get_by_label("How to compare")).to_have_value("eq")
        second.get_by_label("How to compare").select_option(label="is more than")
        settled(page)  # the row is redrawn for the new operator
        second.get_by_label("Number").fill("5")
        second.get_by_label("Number").press("Enter")  # recounts, does not submit
        expect(count).to_have_text("1 contact matches")
        expect(page.locator(".preview-sample")).to_contain_text("Ann Customer")

        page.get_by_label("any of the conditions").check()
        expect(count).to_have_text("2 contacts match")

        second.get_by_label("Number").fill("")
        expect(page.locator("#preview")).to_contain_text("Not counted yet")
        expect(second.locator(".cond-error")).to_have_text("Condition 2: give a number, e.g. 10.")
        shot(page, "segments-editor-error")
        second.get_by_label("Number").fill("12")
        expect(count).to_have_text("2 contacts match")  # any: Lead (Ann, Bob) or seats > 12
        expect(second.locator(".cond-error")).to_be_empty()
        shot(page, "segments-editor")

        page.get_by_label("Name", exact=True).fill("Leads or big accounts")
        page.get_by_role("button", name="Create segment").click()
        expect(page.get_by_role("status")).to_contain_text("created")
        row = page.get_by_role("row").filter(has_text="Leads or big accounts")
        expect(row.locator(".seg-count")).to_have_text("2")
        shot(page, "segments-list")

        row.get_by_role("link", name="Edit Leads or big accounts").click()
        expect(page.locator(".cond-row")).to_have_count(2)
        expect(count).to_have_text("2 contacts match")
        page.locator(".cond-row").nth(1).get_by_role("button", name="Remove this condition").click()
        expect(page.locator(".cond-row")).to_have_count(1)
        expect(count).to_have_text("2 contacts match")
        page.set_viewport_size(MOBILE)
        shot(page, "segments-editor-mobile")
        with workspace_context(tenant.workspace.pk):
            assert Segment.objects.get().definition["match"] == "any"
    except Exception:
        dump_failure("segments", context)
        raise
    finally:
        context.close()
