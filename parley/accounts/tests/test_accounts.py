"""Sign-up, login, lockout, password reset and profile."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from parley.accounts.models import User
from parley.core.tenant import workspace_context
from parley.tenancy.models import Membership, Workspace
from parley.tenancy.roles import Role
from tests.factories import PASSWORD, Tenant

pytestmark = pytest.mark.django_db

SIGNUP = {
    "name": "Ada Lovelace",
    "email": "Ada@Example.test",
    "password": "analytical-engine-42",
    "workspace_name": "Ada's Bakery",
}


def test_signup_creates_user_workspace_and_owner() -> None:
    client = Client()
    response = client.post("/signup/", SIGNUP)
    assert response.status_code == 302
    workspace = Workspace.objects.get(name="Ada's Bakery")
    assert response["Location"] == f"/w/{workspace.slug}/"
    user = User.objects.get(email="ada@example.test")
    with workspace_context(workspace.pk):
        assert Membership.objects.get(user=user).role == Role.OWNER
    assert client.get(response["Location"]).status_code == 200


def test_signup_refuses_bad_input_with_form_errors(tenant_a: Tenant) -> None:
    client = Client()
    weak = client.post("/signup/", {**SIGNUP, "password": "1234567890"})
    assert weak.status_code == 200 and b"too common" in weak.content
    taken = client.post("/signup/", {**SIGNUP, "email": tenant_a.owner.email})
    assert taken.status_code == 200 and b"exists already" in taken.content
    blank = client.post("/signup/", {})
    assert blank.status_code == 200 and b"This field is required" in blank.content
    assert not User.objects.filter(email="ada@example.test").exists()


def test_login_and_logout(tenant_a: Tenant) -> None:
    client = Client()
    response = client.post("/login/", {"username": tenant_a.agent.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # to the workspace
    assert client.get(f"/w/{tenant_a.workspace.slug}/").status_code == 200
    client.post("/logout/")
    assert client.get(f"/w/{tenant_a.workspace.slug}/").status_code == 302  # to login


def test_repeated_failed_logins_lock_the_account(tenant_a: Tenant) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        failed = client.post("/login/", {"username": tenant_a.agent.email, "password": "wrong"})
    assert failed.status_code in (200, 429)
    locked = client.post("/login/", {"username": tenant_a.agent.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert b"Too many failed attempts" in locked.content
    assert "_auth_user_id" not in client.session


def test_password_reset_by_email(tenant_a: Tenant) -> None:
    client = Client()
    client.post("/password-reset/", {"email": tenant_a.viewer.email})
    [message] = mail.outbox
    match = re.search(r"/password-reset/[^/\s]+/[^/\s]+/", str(message.body))
    assert match is not None
    page = client.get(match.group(0), follow=True)
    assert b"Choose a new password" in page.content
    client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "brand-new-secret-77", "new_password2": "brand-new-secret-77"},
    )
    fresh = Client()
    response = fresh.post(
        "/login/", {"username": tenant_a.viewer.email, "password": "brand-new-secret-77"}
    )
    assert response.status_code == 302 and "_auth_user_id" in fresh.session


def test_production_hashing_and_cookies() -> None:
    from parley import settings as product

    assert product.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert product.SESSION_COOKIE_HTTPONLY is True
    assert product.SESSION_COOKIE_SAMESITE == "Lax"


def test_profile_and_switching_workspaces(tenant_a: Tenant, tenant_b: Tenant, login: Any) -> None:
    client: Client = login(tenant_a.owner)
    client.post("/me/", {"name": "Renamed Owner"})
    tenant_a.owner.refresh_from_db()
    assert tenant_a.owner.name == "Renamed Owner"
    client.post("/workspaces/new/", {"name": "Second Shop"})
    second = Workspace.objects.get(name="Second Shop")
    # "/" lands where the user last worked.
    assert client.get("/")["Location"] == f"/w/{second.slug}/"
    client.get(f"/w/{tenant_a.workspace.slug}/")
    assert client.get("/")["Location"] == f"/w/{tenant_a.workspace.slug}/"
    page = client.get("/me/").content.decode()
    assert "Second Shop" in page and "Alpha Corp" in page and "Bravo Corp" not in page
