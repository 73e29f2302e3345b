"""In a real browser: write a note on the contact page, @mention a colleague
by picking them from the autocompletion with the keyboard, and the colleague
sees the bell and the notification."""

from __future__ import annotations

import os

# Playwright's sync API runs an event loop in this thread; the fixtures' ORM
# calls would otherwise be refused.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


import pytest
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.tenancy.roles import Role
from tests.browser import CHROMIUM, DESKTOP, dump_failure, log_in, new_page, shot
from tests.factories import add_member, make_user, make_workspace

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"browser tests need Debian's Chromium at {CHROMIUM}"
    ),
]


def test_mention_a_colleague_who_sees_the_bell(live_server: LiveServer, browser: Browser) -> None:
    ana = make_user("ana.silva@bakery.test", name="Ana Silva")
    workspace = make_workspace("Sunrise Bakery", ana)
    bruno = make_user("bruno.costa@bakery.test", name="Bruno Costa")
    bea = make_user("bea.lima@bakery.test", name="Bea Lima")
    add_member(workspace, bruno, Role.AGENT)
    add_member(workspace, bea, Role.AGENT)
    with workspace_context(workspace.pk):
        contact = Contact.objects.create(
            workspace=workspace, wa_id="15550001234", name="Carla Cliente"
        )
    contact_url = f"{live_server.url}/w/{workspace.slug}/contacts/{contact.pk}/"

    writer = browser.new_context(viewport=DESKTOP)
    reader = browser.new_context(viewport=DESKTOP)
    try:
        page = new_page(writer)
        log_in(page, live_server.url, ana.email)
        page.goto(contact_url)
        panel = page.locator("[data-notes-panel]")
        box = panel.get_by_label("New note on Carla Cliente")
        box.click()
        box.press_sequentially("Wants **two** cakes on Friday. @b")
        menu = panel.get_by_role("listbox", name="Members to mention")
        expect(menu).to_be_visible()
        options = menu.get_by_role("option")
        expect(options).to_have_count(2)  # Bea Lima and Bruno Costa, by name
        expect(options.nth(0)).to_contain_text("Bea Lima")
        expect(options.nth(0)).to_have_attribute("aria-selected", "true")
        shot(page, "notes-01-autocomplete")
        box.press("ArrowDown")
        expect(options.nth(1)).to_have_attribute("aria-selected", "true")
        box.press("Enter")
        expect(menu).to_be_hidden()
        expect(box).to_have_value("Wants **two** cakes on Friday. @bruno.costa ")
        box.press_sequentially("can you confirm? @be")
        expect(options).to_have_count(1)
        box.press("Escape")  # closes the list, keeps the text as typed
        expect(menu).to_be_hidden()
        expect(box).to_have_value(
            "Wants **two** cakes on Friday. @bruno.costa can you confirm? @be"
        )
        box.press("Control+Enter")

        note = panel.locator(".note-item").first
        expect(note).to_contain_text("Wants two cakes on Friday.")
        expect(note.locator("strong", has_text="two")).to_be_visible()
        expect(note.locator(".mention")).to_have_text("@bruno.costa")
        expect(box).to_have_value("")
        shot(page, "notes-02-saved")

        # Bruno logs in: the bell says 1, the notification leads to the note.
        other = new_page(reader)
        log_in(other, live_server.url, bruno.email)
        bell = other.locator("#notification-bell")
        expect(bell.locator(".bell-count")).to_contain_text("1")
        shot(other, "notes-03-bell")
        bell.click()
        other.wait_for_url(f"**/w/{workspace.slug}/notifications/")
        item = other.locator(".notification.unread")
        expect(item).to_have_count(1)
        expect(item).to_contain_text("Ana Silva mentioned you in a note on Carla Cliente")
        shot(other, "notes-04-notifications")
        item.get_by_role("button").click()
        other.wait_for_url(f"**/contacts/{contact.pk}/#note-*")
        expect(other.locator(".note-item").first).to_contain_text("Wants two cakes")
        expect(other.locator("#notification-bell .bell-count")).to_have_count(0)
        # Bea was only half-typed and closed with Escape: no notification.
        other_page = new_page(browser.new_context(viewport=DESKTOP))
        log_in(other_page, live_server.url, bea.email)
        expect(other_page.locator("#notification-bell .bell-count")).to_have_count(0)
        other_page.context.close()
    except BaseException:
        dump_failure("notes-mention", writer, reader)
        raise
    finally:
        writer.close()
        reader.close()
