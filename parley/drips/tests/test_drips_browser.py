"""A drip sequence built in a real browser: the template's variable rows
swapped in by htmx when the template is picked, activation, enrolling a
contact found by search, the subscribers table. Screenshots land in
test-artifacts/."""

from __future__ import annotations

import os

# Playwright's sync API runs an event loop in this thread; Django's ORM calls
# made here by fixtures would otherwise be refused.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from parley.core.tenant import workspace_context
from parley.crm.models import Contact, Tag
from parley.drips.models import Enrolment, Sequence
from parley.drips.tests.helpers import approved_template
from tests.browser import CHROMIUM, DESKTOP, dump_failure, log_in, new_page, shot
from tests.factories import make_channel, make_tenant

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def test_build_activate_and_enrol_in_the_browser(
    live_server: LiveServer, browser: Browser, request: pytest.FixtureRequest
) -> None:
    tenant = make_tenant("Dripco")
    channel = make_channel(tenant)
    approved_template(tenant, channel, name="trial_welcome")
    ws = tenant.workspace
    with workspace_context(ws.pk):
        Tag.objects.create(workspace=ws, name="trial")
        ana = Contact.objects.create(
            workspace=ws, wa_id="351912345601", phone_e164="+351912345601", name="Ana Souza"
        )
    page: Page = new_page(browser.new_context(viewport=DESKTOP))
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        log_in(page, live_server.url, tenant.admin.email)
        page.goto(f"{live_server.url}/w/{ws.slug}/drips/")
        page.get_by_role("link", name="New sequence").click()
        page.get_by_label("Name", exact=True).fill("Trial nurture")
        page.get_by_label("Enrol contacts when").select_option("tag_added")
        page.get_by_label("Tag added").select_option(label="trial")
        page.get_by_role("button", name="Create and add steps").click()

        expect(page.get_by_role("heading", name="New step")).to_be_visible()
        page.get_by_label("Template", exact=True).select_option(
            label="trial_welcome (en_US, approved)"
        )
        # htmx brings the template's variables.
        expect(page.get_by_label("Value of {{1}} from")).to_be_visible()
        page.get_by_label("Value of {{1}} from").select_option("field:first_name")
        page.get_by_label("Fallback of {{1}}").fill("there")
        page.get_by_label("Wait").fill("0")
        shot(page, "drips-step-form")
        page.get_by_role("button", name="Save step").click()
        expect(page.locator(".drip-step")).to_have_count(1)

        page.get_by_role("button", name="Activate").click()
        expect(page.locator(".topline")).to_contain_text("Active")
        shot(page, "drips-steps")

        page.get_by_role("link", name="Subscribers").click()
        page.get_by_label("Find contacts").fill("Ana")
        page.get_by_label("Ana Souza").check()
        page.get_by_role("button", name="Enrol the ticked contacts").click()
        expect(page.locator("main")).to_contain_text("1 enrolled.")
        expect(page.locator("tbody")).to_contain_text("Ana Souza")
        expect(page.locator("tbody")).to_contain_text("queued")
        shot(page, "drips-subscribers")

        page.get_by_role("link", name="Stats").click()
        expect(page.locator(".drip-bars")).to_have_count(1)
        shot(page, "drips-stats")
        page.goto(f"{live_server.url}/w/{ws.slug}/drips/")
        shot(page, "drips-index")
    except Exception:
        dump_failure(request.node.name, page.context)
        raise
    with workspace_context(ws.pk):
        sequence = Sequence.objects.get(name="Trial nurture")
        assert sequence.active
        assert list(Enrolment.objects.values_list("contact_id", flat=True)) == [ana.pk]
