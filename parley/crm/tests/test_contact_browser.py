"""The contact page and the search box in a real browser: tag a contact, see
it on the timeline, find it with "/" and the search page, merge a duplicate.
Screenshots land in test-artifacts/."""

from __future__ import annotations

import os

# Playwright's sync API runs an event loop in this thread; Django's ORM calls
# made here by fixtures would otherwise be refused.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


import pytest
from playwright.sync_api import Browser, Dialog, Page, expect
from pytest_django.live_server_helper import LiveServer

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.inbox.models import Conversation, Message
from tests.browser import CHROMIUM, DESKTOP, dump_failure, log_in, new_page, shot
from tests.factories import make_channel, make_tenant

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def test_contact_page_search_and_merge(
    live_server: LiveServer, browser: Browser, request: pytest.FixtureRequest
) -> None:
    tenant = make_tenant("Harbour")
    channel = make_channel(tenant)
    ws = tenant.workspace
    with workspace_context(ws.pk):
        ana = Contact.objects.create(
            workspace=ws, wa_id="351912345601", phone_e164="+351912345601", name="Ana Souza"
        )
        dup = Contact.objects.create(
            workspace=ws, wa_id="351912345699", name="Ana Souza", email="ana@harbour.example"
        )
        conv = Conversation.objects.create(workspace=ws, contact=ana, channel=channel)
        Message.objects.create(
            workspace=ws,
            conversation=conv,
            direction="in",
            text="Is my parcel on its way?",
            status="received",
        )
    page: Page = new_page(browser.new_context(viewport=DESKTOP))
    try:
        log_in(page, live_server.url, tenant.agent.email)

        page.goto(f"{live_server.url}/w/{ws.slug}/contacts/{ana.pk}/")
        page.get_by_label("Add a tag").fill("VIP")
        page.get_by_label("Add a tag").press("Enter")
        timeline = page.locator("#timeline")
        expect(timeline).to_contain_text("added the tag VIP")
        expect(timeline).to_contain_text("Is my parcel on its way?")
        shot(page, "crm-01-contact")

        # "/" jumps to the search box from anywhere; results are grouped.
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.keyboard.press("/")
        expect(page.get_by_label("Search everything")).to_be_focused()
        page.keyboard.type("parcel")
        page.keyboard.press("Enter")
        results = page.locator("#results")
        expect(results.get_by_role("region", name="Messages")).to_contain_text("parcel")
        page.get_by_label("Search", exact=True).fill("ana sou")
        expect(results.get_by_role("region", name="Contacts")).to_contain_text("Ana Souza")
        page.get_by_label("Name", exact=True).fill("Ana")  # saves what is on screen
        page.get_by_role("button", name="Save search").click()
        expect(page.locator(".saved")).to_contain_text("Ana")
        shot(page, "crm-02-search")
        with workspace_context(ws.pk):
            from parley.search.models import SavedSearch

            assert SavedSearch.objects.get().q == "ana sou"

        # The duplicate (same name) is suggested on the contact page; merge it.
        page.goto(f"{live_server.url}/w/{ws.slug}/contacts/{ana.pk}/")
        page.get_by_text("Merge a duplicate").click()
        page.once("dialog", lambda dialog: Dialog.accept(dialog))
        page.get_by_role("button", name="Merge into this").click()
        expect(page.locator("body")).to_contain_text("was merged into this contact")
        expect(page.locator("body")).to_contain_text("ana@harbour.example")
        shot(page, "crm-03-merged")

        page.goto(f"{live_server.url}/w/{ws.slug}/contacts/setup/")
        expect(page.get_by_role("heading", name="Tags and fields")).to_be_visible()
        shot(page, "crm-05-tags-and-fields")
        with workspace_context(ws.pk):
            assert not Contact.objects.filter(pk=dup.pk).exists()
    except Exception:
        dump_failure(request.node.name, page.context)
        raise
