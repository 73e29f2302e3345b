from __future__ import annotations

from collections.abc import Iterator

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
