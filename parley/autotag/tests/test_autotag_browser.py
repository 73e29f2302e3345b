"""A rule written in a real browser: the live preview marks the recent
messages it would match as the keywords are typed, before saving; then the
rule is saved and moved with the keyboard-reachable buttons. Screenshots land
in test-artifacts/."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from parley.autotag import engine
from parley.core.tenant import workspace_context
from parley.crm.models import Tag
from parley.routing.tests.helpers import inbound
from tests.browser import CHROMIUM, DESKTOP, dump_failure, log_in, new_page, shot
from tests.factories import make_channel, make_tenant

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def test_rule_editor_previews_then_saves(
    live_server: LiveServer, browser: Browser, request: pytest.FixtureRequest
) -> None:
    engine.clear_cache()
    tenant = make_tenant("Tagco")
    channel = make_channel(tenant)
    ws = tenant.workspace
    with workspace_context(ws.pk):
        Tag.objects.create(workspace=ws, name="billing")
        Tag.objects.create(workspace=ws, name="urgent")
    inbound(tenant, channel, wa_id="15550040001", body="Can I get a refund on invoice 77?")
    inbound(tenant, channel, wa_id="15550040002", body="Love the product!")
    inbound(tenant, channel, wa_id="15550040003", body="REFUND now please, this is urgent")
    page: Page = new_page(browser.new_context(viewport=DESKTOP))
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        log_in(page, live_server.url, tenant.admin.email)
        page.goto(f"{live_server.url}/w/{ws.slug}/automation/rules/")
        page.get_by_role("link", name="New rule").click()
        page.get_by_label("Name", exact=True).fill("Refunds")
        page.get_by_label("Keywords").fill("refund")
        preview = page.locator("#rule-preview")
        expect(preview).to_contain_text("2 of the last 3")
        expect(preview.locator("mark")).to_have_count(2)
        page.get_by_label("Tag the contact with").select_option(label="billing")
        shot(page, "autotag-editor-preview")
        page.get_by_role("button", name="Add rule").click()
        expect(page.get_by_role("link", name="Refunds")).to_be_visible()

        page.get_by_role("link", name="New rule").click()
        page.get_by_label("Name", exact=True).fill("Urgent")
        page.get_by_label("Pattern (regular expression)").check()
        page.get_by_label("Pattern", exact=True).fill(r"(?i)\burgent\b")
        expect(preview).to_contain_text("1 of the last 3")
        page.get_by_label("Tag the conversation with").select_option(label="urgent")
        page.get_by_label("Stop after this rule").check()
        page.get_by_role("button", name="Add rule").click()
        page.get_by_role("button", name="Move Urgent up").click()
        items = page.locator(".rule-list > li strong")
        expect(items.first).to_have_text("Urgent")
        shot(page, "autotag-list")
    except Exception:
        dump_failure(request.node.name, page.context)
        raise
