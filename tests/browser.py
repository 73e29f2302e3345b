"""Helpers for the Playwright browser tests: launch the system Chromium, keep
screenshots in test-artifacts/, and fill Django forms by their labels."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Playwright,
    ViewportSize,
    expect,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

# Milliseconds. Every page here renders in well under a second; a generous
# but finite wait keeps a broken page from hanging the run.
ACTION_TIMEOUT_MS = 5_000
NAVIGATION_TIMEOUT_MS = 10_000
DESKTOP: ViewportSize = {"width": 1280, "height": 860}
MOBILE: ViewportSize = {"width": 390, "height": 844}

WORKSPACE_URL = re.compile(r"/w/(?P<slug>[a-z0-9-]+)/$")


def launch(playwright: Playwright) -> Browser:
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=NAVIGATION_TIMEOUT_MS
    )


def new_page(context: BrowserContext) -> Page:
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    page.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    return page


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def dump_failure(test_name: str, *contexts: BrowserContext) -> None:
    """Keep what every open page showed when a test failed: a screenshot and
    the HTML, as test-artifacts/FAILED-<test>-<n>.{png,html}."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages = [page for context in contexts for page in context.pages]
    for n, page in enumerate(pages, start=1):
        stem = ARTIFACTS / f"FAILED-{test_name}-{n}"
        try:
            page.screenshot(path=f"{stem}.png", full_page=True, timeout=ACTION_TIMEOUT_MS)
            stem.with_suffix(".html").write_text(f"<!-- {page.url} -->\n{page.content()}")
        except Exception:  # noqa: S112 - best effort; the real failure follows
            continue


def fill(scope: Page | Locator, fields: dict[str, str]) -> None:
    """Type into inputs found by their visible label, as a person would."""
    for label, value in fields.items():
        scope.get_by_label(label, exact=True).fill(value)


def workspace_slug(page: Page) -> str:
    match = WORKSPACE_URL.search(page.url)
    assert match is not None, f"not on a workspace home: {page.url}"
    return match.group("slug")


def log_in(page: Page, base: str, email: str, password: str = "") -> Page:
    """Log in through the real form and wait to land in a workspace."""
    from tests.factories import PASSWORD

    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password or PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # (Playwright hands the pattern to JavaScript: no named groups.)
    expect(page).to_have_url(re.compile(r"/w/[a-z0-9-]+/$"))
    return page
