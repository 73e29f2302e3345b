from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from parley.accounts.models import User
from tests.factories import Tenant, make_tenant


def pytest_configure() -> None:
    # argon2 is the product's hasher (see test_security); tests need speed.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    # In-process drains need no late look (worker processes keep the default).
    settings.PARLEY_INGEST_RECHECK_SECONDS = 0


@pytest.fixture
def tenant_a(db: None) -> Tenant:
    return make_tenant("Alpha")


@pytest.fixture
def tenant_b(db: None) -> Tenant:
    return make_tenant("Bravo")


@pytest.fixture
def login() -> Iterator[object]:
    def _login(user: User) -> Client:
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    yield _login


@pytest.fixture
def sim(transactional_db: None) -> Iterator[Any]:
    """The Cloud API simulator on a loopback port. It depends on the database
    fixture so that it stops first: webhooks in flight must not race the
    flush that ends the test."""
    from parley.whatsapp.simulator.server import start_simulator

    handle = start_simulator()
    try:
        yield handle
    finally:
        handle.control.wait_idle(10)
        handle.stop()


@pytest.fixture
def asgi_server(transactional_db: None) -> Iterator[Any]:
    """Parley's real ASGI application (webhook fast path, SSE) on loopback."""
    from django.db import connections

    from parley.asgi import application
    from parley.whatsapp.simulator.server import BackgroundServer

    with BackgroundServer(application, lifespan="on") as server:
        yield server
    # Its request threads borrowed pooled connections: give them back, so the
    # test database can be flushed and dropped.
    for connection in connections.all():
        close_pool = getattr(connection, "close_pool", None)
        if close_pool is not None:
            close_pool()


@pytest.fixture
def browser(live_server: Any) -> Iterator[Any]:
    """Debian's Chromium through Playwright, for one test against the live
    server. Modules that want one browser for all their tests define their own."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    from tests.browser import launch

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()
    # The live server's request threads borrowed pooled connections: give
    # them back, so the test database can be dropped at the end.
    for connection in connections.all():
        close_pool = getattr(connection, "close_pool", None)
        if close_pool is not None:
            close_pool()
