"""The webhooks API end to end (with a real receiver), and who may use it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from parley.integrations.tests.receiver import GONE, Receiver
from parley.tenancy.roles import Cap
from tests.factories import Tenant, actor_for, make_token

pytestmark = pytest.mark.django_db


def _client(raw_token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw_token}"})


def _json(client: Client, method: str, url: str, body: Any = None) -> tuple[int, Any]:
    response = getattr(client, method)(f"/api/v1{url}", body, content_type="application/json")
    return response.status_code, (response.json() if response.content else None)


def test_register_test_list_retry_rotate_and_delete(tenant_a: Tenant) -> None:
    api = _client(tenant_a.raw_token)
    status, events = _json(api, "get", "/webhooks/events")
    assert status == 200
    assert {e["type"] for e in events} >= {"message.received", "contact.tag_changed"}
    with Receiver() as receiver:
        status, made = _json(
            api,
            "post",
            "/webhooks/endpoints",
            {"url": receiver.url, "events": ["contact.created"], "description": "CRM"},
        )
        assert status == 201, made
        assert made["secret"].startswith("whsec_") and made["enabled"] is True
        assert made["secret_hint"] == "…" + made["secret"][-4:]
        receiver.secrets = [made["secret"]]
        pk = made["id"]

        status, tested = _json(api, "post", f"/webhooks/endpoints/{pk}/test")
        assert status == 200, tested
        assert tested["status"] == "succeeded" and tested["event_type"] == "ping"
        assert tested["attempt_log"][0]["response_status"] == 200
        assert receiver.received[0].valid == {made["secret"]: True}

        receiver.script.append(GONE)
        _status, failed = _json(api, "post", f"/webhooks/endpoints/{pk}/test")
        assert failed["status"] == "failed" and failed["error"] == "HTTP 410 Gone"

        status, page = _json(api, "get", f"/webhooks/endpoints/{pk}/deliveries?status=failed")
        assert status == 200 and [d["id"] for d in page["items"]] == [failed["id"]]
        status, detail = _json(api, "get", f"/webhooks/endpoints/{pk}/deliveries/{failed['id']}")
        assert status == 200 and detail["payload"]["type"] == "ping"
        assert detail["attempt_log"][0]["request_headers"]["X-Parley-Event"] == "ping"

        status, retried = _json(
            api, "post", f"/webhooks/endpoints/{pk}/deliveries/{failed['id']}/retry"
        )
        assert status == 200 and retried["status"] == "pending"

        status, got = _json(api, "get", f"/webhooks/endpoints/{pk}")
        assert got["success_rate_24h"] == 50.0 and got["attempts_24h"] == 2

        status, rotated = _json(
            api, "post", f"/webhooks/endpoints/{pk}/rotate-secret", {"overlap_hours": 2}
        )
        assert status == 200 and rotated["secret"] != made["secret"]
        assert rotated["previous_secret_expires_at"] is not None

    status, edited = _json(
        api, "patch", f"/webhooks/endpoints/{pk}", {"events": ["deal.changed"], "enabled": False}
    )
    assert status == 200, edited
    assert edited["events"] == ["deal.changed"] and edited["enabled"] is False
    status, listed = _json(api, "get", "/webhooks/endpoints")
    assert [e["id"] for e in listed["items"]] == [pk]
    assert _json(api, "delete", f"/webhooks/endpoints/{pk}")[0] == 204
    assert _json(api, "get", f"/webhooks/endpoints/{pk}")[0] == 404


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        ({"url": "http://10.0.0.8/hook", "events": ["deal.changed"]}, "refused_url", "private"),
        (
            {"url": "http://169.254.169.254/", "events": ["deal.changed"]},
            "refused_url",
            "link-local",
        ),
        ({"url": "ftp://example.com/", "events": ["deal.changed"]}, "refused_url", "https://"),
    ],
)
def test_refused_urls_say_why(tenant_a: Tenant, body: Any, code: str, says: str) -> None:
    status, error = _json(_client(tenant_a.raw_token), "post", "/webhooks/endpoints", body)
    assert status == 400, error
    assert error["code"] == code and error["field"] == "url" and says in error["message"]


def test_unknown_events_are_refused(tenant_a: Tenant) -> None:
    status, _error = _json(
        _client(tenant_a.raw_token),
        "post",
        "/webhooks/endpoints",
        {"url": "http://127.0.0.1:9/", "events": ["contact.exploded"]},
    )
    assert status == 422


def test_agents_and_viewers_cannot_manage_webhooks(tenant_a: Tenant, login: Any) -> None:
    for user in (tenant_a.agent, tenant_a.viewer):
        session = login(user)
        session.defaults["HTTP_X_PARLEY_WORKSPACE"] = tenant_a.workspace.slug
        status, error = _json(session, "get", "/webhooks/endpoints")
        assert status == 403, (user, error)
        assert "does not allow webhooks.manage" in error["message"]
        status, _ = _json(
            session,
            "post",
            "/webhooks/endpoints",
            {"url": "http://127.0.0.1:9/", "events": ["deal.changed"]},
        )
        assert status == 403


def test_a_token_needs_the_webhooks_scope(tenant_a: Tenant) -> None:
    _token, raw = make_token(tenant_a.workspace, tenant_a.owner, ("workspace:read",))
    status, error = _json(_client(raw), "get", "/webhooks/endpoints")
    assert status == 403 and "webhooks:write" in error["message"]
    assert actor_for(tenant_a.workspace, tenant_a.admin).can(Cap.WEBHOOKS_MANAGE)
    assert not actor_for(tenant_a.workspace, tenant_a.agent).can(Cap.WEBHOOKS_MANAGE)


def test_openapi_documents_verification(tenant_a: Tenant) -> None:
    spec = Client().get("/api/v1/openapi.json").json()
    operation = spec["paths"]["/api/v1/webhooks/endpoints"]["post"]
    assert "X-Parley-Signature" in operation["description"]
    schema = spec["components"]["schemas"]["EndpointIn"]
    assert schema["properties"]["url"]["examples"] == ["https://example.com/hooks/parley"]
