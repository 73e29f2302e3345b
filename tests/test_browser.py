"""Real-browser walks through the product, as its users would do them.

Chromium (Debian's, at /usr/bin/chromium) is driven by Playwright's sync API
against pytest-django's live server. Screenshots of every main page land in
test-artifacts/ for a human to look at.
"""

from __future__ import annotations

import os

# Playwright's sync API runs an event loop in this thread; Django's ORM calls
# made here by fixtures (flush, factories) would otherwise be refused.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from parley.tenancy.roles import Role
from tests.browser import (
    CHROMIUM,
    DESKTOP,
    MOBILE,
    WORKSPACE_URL,
    dump_failure,
    fill,
    launch,
    new_page,
    shot,
    workspace_slug,
)
from tests.factories import PASSWORD, add_member, make_user, make_workspace

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"browser tests need Debian's Chromium at {CHROMIUM}"
    ),
]

SIGNUP_PASSWORD = "amber-lantern-kettle-42"
HTTP_TIMEOUT_S = 5.0


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


def main_nav_links(page: Page) -> list[str]:
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    return [text.strip() for text in links.all_inner_texts()]


def sideways_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0 when it fits)."""
    width: int = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return width


def click_nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def test_signup_invite_colleague_who_joins_as_agent(
    live_server: LiveServer, browser: Browser, settings: Settings
) -> None:
    # Invitation links are absolute; point them at this server.
    settings.BASE_URL = live_server.url

    owner_context = browser.new_context(viewport=DESKTOP)
    colleague_context = browser.new_context(viewport=DESKTOP)
    try:
        owner = new_page(owner_context)

        # Sign up: a new person creates a workspace.
        owner.goto(f"{live_server.url}/signup/")
        expect(owner.get_by_role("heading", level=1)).to_have_text("Create your workspace")
        # A careless first try: the form explains what is missing, next to each field.
        owner.get_by_role("button", name="Create workspace").click()
        expect(owner.locator(".errorlist")).to_have_count(4)
        expect(owner.get_by_label("Email", exact=True)).to_have_attribute("aria-invalid", "true")
        shot(owner, "00-signup-errors")
        fill(
            owner,
            {
                "Your name": "Olivia Owner",
                "Email": "olivia@sunrise.test",
                "Password": SIGNUP_PASSWORD,
                "Business / workspace name": "Sunrise Bakery",
            },
        )
        shot(owner, "01-signup")
        owner.get_by_role("button", name="Create workspace").click()
        owner.wait_for_url(WORKSPACE_URL)
        slug = workspace_slug(owner)
        expect(owner.get_by_role("heading", level=1)).to_have_text("Sunrise Bakery")
        expect(owner.get_by_title("Your role")).to_have_text("owner")
        expect(owner.get_by_role("status")).to_contain_text("Sunrise Bakery is ready")
        shot(owner, "02-home-owner")

        # Invite a colleague as an agent.
        click_nav(owner, "Members")
        owner.wait_for_url(f"**/w/{slug}/members/")
        shot(owner, "03-members-empty")
        invite = owner.locator("form").filter(
            has=owner.get_by_role("button", name="Send invitation")
        )
        fill(invite, {"Email": "carlos@sunrise.test"})
        invite.get_by_label("Role", exact=True).select_option("agent")
        invite.get_by_role("button", name="Send invitation").click()
        expect(owner.get_by_role("status")).to_contain_text(
            "Invitation sent to carlos@sunrise.test"
        )
        link = owner.locator(".secret code").inner_text().strip()
        assert link.startswith(f"{live_server.url}/invite/"), link
        shot(owner, "04-members-invited")

        # The colleague, in a browser of their own, follows the link.
        colleague = new_page(colleague_context)
        colleague.goto(link)
        expect(colleague.get_by_role("heading", level=1)).to_have_text("Join Sunrise Bakery")
        expect(colleague.get_by_text("carlos@sunrise.test")).to_be_visible()
        fill(colleague, {"Your name": "Carlos Agent", "Password": "tortilla-sunset-Orbit-7"})
        shot(colleague, "05-invitation")
        colleague.get_by_role("button", name="Create account and join").click()
        colleague.wait_for_url(f"**/w/{slug}/")
        expect(colleague.get_by_role("heading", level=1)).to_have_text("Sunrise Bakery")
        expect(colleague.get_by_title("Your role")).to_have_text("agent")
        expect(colleague.get_by_role("status")).to_contain_text("You joined Sunrise Bakery")
        links = main_nav_links(colleague)
        assert "Home" in links and "Settings" in links, links
        assert "Members" not in links, links
        assert "API tokens" not in links, links
        shot(colleague, "06-home-agent")
        click_nav(colleague, "Settings")
        expect(colleague.get_by_label("Name", exact=True)).to_be_disabled()
        expect(colleague.get_by_role("button", name="Save")).to_have_count(0)
        shot(colleague, "06b-settings-agent")

        # An agent cannot reach the members page by typing its address either.
        response = colleague.goto(f"{live_server.url}/w/{slug}/members/")
        assert response is not None and response.status == 403
        expect(colleague.get_by_role("heading", level=1)).to_have_text("You cannot open this page")
        shot(colleague, "06c-forbidden")

        # Back with the owner: the colleague is a member now, as an agent.
        click_nav(owner, "Members")
        owner.wait_for_url(f"**/w/{slug}/members/")
        row = owner.get_by_role("row").filter(has_text="carlos@sunrise.test")
        expect(row).to_contain_text("Carlos Agent")
        expect(row.get_by_role("combobox")).to_have_value("agent")
        expect(owner.get_by_text("Pending invitations")).to_have_count(0)
        shot(owner, "07-members-joined")
    except BaseException:
        dump_failure("signup-invite", owner_context, colleague_context)
        raise
    finally:
        colleague_context.close()
        owner_context.close()


def test_admin_creates_uses_and_revokes_an_api_token(
    live_server: LiveServer, browser: Browser
) -> None:
    owner = make_user("owen@harbour.test", name="Owen Owner")
    workspace = make_workspace("Harbour Fish", owner)
    admin = make_user("ada@harbour.test", name="Ada Admin")
    add_member(workspace, admin, Role.ADMIN)

    context = browser.new_context(viewport=DESKTOP)
    try:
        page = new_page(context)
        confirmations: list[str] = []

        def confirm(dialog: Dialog) -> None:
            confirmations.append(dialog.message)
            dialog.accept()

        page.on("dialog", confirm)

        # Log in as the admin.
        page.goto(f"{live_server.url}/login/")
        fill(page, {"Email": admin.email, "Password": PASSWORD})
        shot(page, "10-login")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"**/w/{workspace.slug}/")
        expect(page.get_by_title("Your role")).to_have_text("admin")

        # Create a token; its secret is shown exactly once.
        click_nav(page, "API tokens")
        page.wait_for_url(f"**/w/{workspace.slug}/tokens/")
        shot(page, "11-tokens-empty")
        fill(page, {"Name": "Order sync"})
        expect(page.get_by_label("workspace:read", exact=True)).to_be_checked()
        page.get_by_role("button", name="Create token").click()
        expect(page.get_by_role("status")).to_contain_text("Token Order sync created")
        secret = page.locator("#new-secret").inner_text().strip()
        assert secret.startswith("prl_"), secret
        shot(page, "12-tokens-created")

        api = f"{live_server.url}/api/v1/me"
        headers = {"Authorization": f"Bearer {secret}"}
        response = httpx.get(api, headers=headers, timeout=HTTP_TIMEOUT_S)
        assert response.status_code == 200, response.text
        assert response.json()["workspace_slug"] == workspace.slug
        assert response.json()["token_name"] == "Order sync"

        # Coming back to the page does not show the secret again.
        page.goto(f"{live_server.url}/w/{workspace.slug}/tokens/")
        expect(page.locator("#new-secret")).to_have_count(0)
        expect(page.get_by_text(secret)).to_have_count(0)

        # Revoke it (the confirm dialog is accepted); the API refuses it at once.
        row = page.get_by_role("row").filter(has_text="Order sync")
        row.get_by_role("button", name="Revoke").click()
        expect(page.get_by_role("status")).to_contain_text("Token Order sync revoked")
        assert len(confirmations) == 1 and confirmations[0].startswith("Revoke Order sync?")
        expect(row.locator(".badge")).to_have_text("revoked")
        shot(page, "13-tokens-revoked")
        response = httpx.get(api, headers=headers, timeout=HTTP_TIMEOUT_S)
        assert response.status_code == 401, response.text

        # The remaining pages, for a look.
        click_nav(page, "Settings")
        expect(page.get_by_role("heading", level=1)).to_have_text("Workspace settings")
        shot(page, "14-settings-admin")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Ada Admin").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")
        shot(page, "15-profile")

        # Keyboard users get a skip link first, then the workspace switcher,
        # the search box ("/" jumps there too) and the navigation.
        page.goto(f"{live_server.url}/w/{workspace.slug}/")
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.get_by_label("Workspace", exact=True)).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.get_by_label("Search everything")).to_be_focused()
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Home", exact=True)).to_be_focused()
        page.evaluate("document.activeElement.blur()")
        page.keyboard.press("/")
        expect(page.get_by_label("Search everything")).to_be_focused()
        shot(page, "15b-keyboard-focus")

        page.set_viewport_size(MOBILE)
        page.goto(f"{live_server.url}/w/{workspace.slug}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Harbour Fish")
        shot(page, "16-home-mobile")
        assert sideways_overflow(page) <= 0, "the home page scrolls sideways at 390px"
        page.goto(f"{live_server.url}/w/{workspace.slug}/tokens/")
        shot(page, "17-tokens-mobile")
        assert sideways_overflow(page) <= 0, "the tokens page scrolls sideways at 390px"
    except BaseException:
        dump_failure("api-token", context)
        raise
    finally:
        context.close()
