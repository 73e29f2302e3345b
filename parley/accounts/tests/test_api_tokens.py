"""API tokens and the API's contract: auth, scopes, errors, pagination."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from parley.accounts.models import ApiToken
from parley.core.tenant import workspace_context
from parley.tenancy.roles import ALL_SCOPES
from tests.factories import Tenant, add_member, make_token, make_user

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def test_token_lifecycle_through_the_api(tenant_a: Tenant, login: Any) -> None:
    admin: Client = login(tenant_a.admin)
    created = admin.post(
        "/api/v1/tokens",
        {"name": "CRM sync", "scopes": ["workspace:read", "members:read"]},
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    raw = body["token"]
    assert raw.startswith("prl_") and body["state"] == "active"
    with workspace_context(tenant_a.workspace.pk):
        stored = ApiToken.objects.get(pk=body["id"])
    assert raw not in (stored.secret_hash, stored.key_id)  # only a hash is kept

    api = Client()
    me = api.get("/api/v1/me", headers=bearer(raw)).json()
    assert me["kind"] == "token" and me["workspace_slug"] == tenant_a.workspace.slug
    assert api.get("/api/v1/members", headers=bearer(raw)).status_code == 200
    # Shown once: listing never returns the secret.
    listing = admin.get("/api/v1/tokens").content.decode()
    assert raw not in listing and "last_used_at" in listing
    with workspace_context(tenant_a.workspace.pk):
        assert ApiToken.objects.get(pk=body["id"]).last_used_at is not None

    rotated = admin.post(f"/api/v1/tokens/{body['id']}/rotate").json()
    assert api.get("/api/v1/me", headers=bearer(raw)).status_code == 401
    assert api.get("/api/v1/me", headers=bearer(rotated["token"])).status_code == 200

    revoked = admin.delete(f"/api/v1/tokens/{body['id']}")
    assert revoked.json()["state"] == "revoked"
    assert api.get("/api/v1/me", headers=bearer(rotated["token"])).status_code == 401


def test_scopes_limit_a_token(tenant_a: Tenant) -> None:
    _token, raw = make_token(tenant_a.workspace, tenant_a.owner, scopes=("workspace:read",))
    api = Client()
    assert api.get("/api/v1/workspace", headers=bearer(raw)).status_code == 200
    denied = api.get("/api/v1/members", headers=bearer(raw))
    assert denied.status_code == 403
    assert denied.json() == {
        "code": "forbidden",
        "message": "This API token lacks the scope 'members:read' (members.read).",
        "field": None,
    }
    assert (
        api.patch(
            "/api/v1/workspace", {"name": "x"}, content_type="application/json", headers=bearer(raw)
        ).status_code
        == 403
    )


def test_expired_and_malformed_tokens_are_refused(tenant_a: Tenant) -> None:
    token, raw = make_token(tenant_a.workspace, tenant_a.owner)
    with workspace_context(tenant_a.workspace.pk):
        ApiToken.objects.filter(pk=token.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    api = Client()
    for value in (raw, "prl_nothing", "garbage", raw[:-2] + "xx", ""):
        response = api.get("/api/v1/me", headers=bearer(value))
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"


def test_roles_apply_to_the_api(tenant_a: Tenant, login: Any) -> None:
    agent: Client = login(tenant_a.agent)
    assert agent.get("/api/v1/workspace").status_code == 200
    assert agent.get("/api/v1/members").status_code == 403  # the user list is admin-only
    assert agent.get("/api/v1/me").json()["role"] == "agent"  # but their own profile is theirs
    assert (
        agent.post(
            "/api/v1/tokens",
            {"name": "x", "scopes": ["workspace:read"]},
            content_type="application/json",
        ).status_code
        == 403
    )
    viewer: Client = login(tenant_a.viewer)
    assert (
        viewer.patch(
            "/api/v1/workspace", {"name": "Nope"}, content_type="application/json"
        ).status_code
        == 403
    )


def test_errors_name_the_field(tenant_a: Tenant, login: Any) -> None:
    admin: Client = login(tenant_a.admin)
    bad_scope = admin.post(
        "/api/v1/tokens", {"name": "x", "scopes": ["everything"]}, content_type="application/json"
    )
    assert bad_scope.status_code == 400
    assert bad_scope.json()["field"] == "scopes" and "everything" in bad_scope.json()["message"]
    missing = admin.post("/api/v1/tokens", {"scopes": []}, content_type="application/json")
    assert missing.status_code == 422
    assert missing.json()["code"] == "invalid" and missing.json()["field"] == "name"
    bad_tz = admin.patch(
        "/api/v1/workspace", {"timezone": "Nowhere/City"}, content_type="application/json"
    )
    assert bad_tz.status_code == 400 and bad_tz.json()["field"] == "timezone"
    past = admin.post(
        "/api/v1/tokens",
        {"name": "old", "scopes": ["workspace:read"], "expires_at": "2001-01-01T00:00:00Z"},
        content_type="application/json",
    )
    assert past.status_code == 400 and past.json()["field"] == "expires_at"
    dup = admin.post(
        "/api/v1/invitations",
        {"email": tenant_a.agent.email, "role": "agent"},
        content_type="application/json",
    )
    assert dup.status_code == 409 and dup.json()["code"] == "already_member"
    not_json = admin.generic(
        "POST", "/api/v1/tokens", b"{not json", content_type="application/json"
    )
    assert 400 <= not_json.status_code < 500


def test_lists_are_cursor_paginated(tenant_a: Tenant, login: Any) -> None:
    for n in range(7):
        add_member(tenant_a.workspace, make_user(f"extra{n}@alpha.test"), "viewer")
    admin: Client = login(tenant_a.admin)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = admin.get("/api/v1/members", query).json()
        seen += [m["id"] for m in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
        assert pages < 10
    assert len(seen) == 11 and len(set(seen)) == 11 and seen == sorted(seen)
    assert pages == 4
    bad = admin.get("/api/v1/members", {"cursor": "@@@"})
    assert bad.status_code == 400 and bad.json()["field"] == "cursor"
    assert admin.get("/api/v1/members", {"limit": 0}).json()["field"] == "limit"


def test_invitations_over_the_api(tenant_a: Tenant, login: Any) -> None:
    admin: Client = login(tenant_a.admin)
    created = admin.post(
        "/api/v1/invitations",
        {"email": "dana@example.test", "role": "agent"},
        content_type="application/json",
    ).json()
    assert created["state"] == "pending" and "/invite/" in created["accept_url"]
    assert admin.get(f"/api/v1/invitations/{created['id']}").json()["email"] == "dana@example.test"
    assert "accept_url" not in admin.get("/api/v1/invitations").json()["items"][0]
    revoked = admin.delete(f"/api/v1/invitations/{created['id']}").json()
    assert revoked["state"] == "revoked"
    member_id = tenant_a.member(tenant_a.agent).pk
    changed = admin.patch(
        f"/api/v1/members/{member_id}", {"role": "viewer"}, content_type="application/json"
    )
    assert changed.json()["role"] == "viewer"
    assert admin.delete(f"/api/v1/members/{member_id}").status_code == 204
    audit = admin.get("/api/v1/audit-events").json()["items"]
    assert {
        "invitation.created",
        "invitation.revoked",
        "member.role_changed",
        "member.removed",
    } <= {e["action"] for e in audit}


def test_openapi_documents_every_route_with_examples(client: Client) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/tokens", "/api/v1/members/{member_id}", "/api/v1/invitations"} <= set(
        spec["paths"]
    )
    assert "bearer" in str(spec["components"]["securitySchemes"]).lower()
    assert "CRM sync" in str(spec)  # examples are there
    assert client.get("/api/v1/docs").status_code == 200
    assert sorted(ALL_SCOPES)


def test_an_admin_removed_later_does_not_matter_to_outsiders(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    # A token authenticates only into its own workspace, whatever header is sent.
    api = Client()
    response = api.get(
        "/api/v1/workspace",
        HTTP_X_PARLEY_WORKSPACE=tenant_b.workspace.slug,
        headers=bearer(tenant_a.raw_token),
    )
    assert response.json()["slug"] == tenant_a.workspace.slug


def test_the_tokens_page_shows_a_new_secret_once_and_a_reload_creates_nothing(
    tenant_a: Tenant, login: Any
) -> None:
    admin: Client = login(tenant_a.admin)
    url = f"/w/{tenant_a.workspace.slug}/tokens/"
    response = admin.post(
        url, {"name": "Zapier", "scopes": ["workspace:read"], "expires_in_days": "30"}
    )
    assert response.status_code == 302 and response["Location"] == url
    first = admin.get(url).content.decode()
    assert "Copy this token now" in first and "prl_" in first
    assert "Copy this token now" not in admin.get(url).content.decode()
    with workspace_context(tenant_a.workspace.pk):
        assert ApiToken.objects.filter(name="Zapier").count() == 1
