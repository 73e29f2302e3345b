"""The webhook pages: what admins see and do, and that nobody else gets in."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from parley.core.tenant import workspace_context
from parley.integrations.models import Endpoint
from parley.integrations.tests.helpers import deliveries, endpoint_now, make_endpoint
from parley.integrations.tests.receiver import ERROR, Receiver
from tests.factories import Tenant

pytestmark = pytest.mark.django_db


def _url(tenant: Tenant, name: str, *args: Any) -> str:
    return reverse(name, args=[tenant.workspace.slug, *args])


def test_add_an_endpoint_then_test_rotate_retry_disable_and_delete(
    tenant_a: Tenant, login: Any
) -> None:
    admin = login(tenant_a.admin)
    page = admin.get(_url(tenant_a, "webhooks_index"))
    assert page.status_code == 200 and b"No endpoints yet" in page.content
    # Refused with the reason, on the form.
    refused = admin.post(
        _url(tenant_a, "webhooks_new"),
        {"url": "http://192.168.1.20/hook", "events": ["contact.created"]},
    )
    assert refused.status_code == 200
    assert b"192.168.1.20 is a private address" in refused.content
    with Receiver() as receiver:
        made = admin.post(
            _url(tenant_a, "webhooks_new"),
            {
                "url": receiver.url,
                "events": ["contact.created", "deal.changed"],
                "description": "CRM",
            },
            follow=True,
        )
        assert made.status_code == 200
        with workspace_context(tenant_a.workspace.pk):
            endpoint = Endpoint.objects.get(workspace=tenant_a.workspace)
        secret = endpoint.secret
        # Shown once, on the page after creation.
        assert secret.encode() in made.content
        assert (
            secret.encode()
            not in admin.get(_url(tenant_a, "webhooks_endpoint", endpoint.pk)).content
        )
        receiver.secrets = [secret]

        tested = admin.post(_url(tenant_a, "webhooks_test", endpoint.pk), follow=True)
        assert b"Test event delivered: HTTP 200" in tested.content
        assert receiver.received[0].valid == {secret: True}
        receiver.script.append(ERROR)
        tested = admin.post(_url(tenant_a, "webhooks_test", endpoint.pk), follow=True)
        assert b"Test event not delivered: HTTP 500" in tested.content

        detail = admin.get(_url(tenant_a, "webhooks_endpoint", endpoint.pk))
        body = detail.content.decode()
        assert "50.0%" in body and "wh-chart" in body
        assert body.count('class="wh-delivery"') == 2
        failed = admin.get(_url(tenant_a, "webhooks_endpoint", endpoint.pk) + "?status=pending")
        assert failed.content.decode().count('class="wh-delivery"') == 1

        pending = next(d for d in deliveries(tenant_a) if d.status == "pending")
        retried = admin.post(_url(tenant_a, "webhooks_retry", endpoint.pk, pending.pk), follow=True)
        assert f"Delivery {pending.pk} queued again".encode() in retried.content

    rotated = admin.post(
        _url(tenant_a, "webhooks_rotate", endpoint.pk), {"overlap_hours": "12"}, follow=True
    )
    fresh = endpoint_now(tenant_a, endpoint)
    assert fresh.secret != secret and fresh.secret.encode() in rotated.content
    assert fresh.secrets()[1] == secret

    admin.post(_url(tenant_a, "webhooks_toggle", endpoint.pk), {"enabled": "0"})
    assert not endpoint_now(tenant_a, endpoint).enabled
    edited = admin.post(
        _url(tenant_a, "webhooks_edit", endpoint.pk),
        {"url": "http://127.0.0.1:9/v2", "events": ["deal.changed"]},
    )
    assert edited.status_code == 302
    assert endpoint_now(tenant_a, endpoint).events == ["deal.changed"]
    admin.post(_url(tenant_a, "webhooks_delete", endpoint.pk))
    with workspace_context(tenant_a.workspace.pk):
        assert not Endpoint.objects.filter(workspace=tenant_a.workspace).exists()


def test_agents_and_viewers_are_refused(tenant_a: Tenant, login: Any) -> None:
    endpoint, _secret = make_endpoint(tenant_a, "http://127.0.0.1:9/x")
    for user in (tenant_a.agent, tenant_a.viewer):
        client = login(user)
        assert client.get(_url(tenant_a, "webhooks_index")).status_code == 403
        assert client.get(_url(tenant_a, "webhooks_endpoint", endpoint.pk)).status_code == 403
        assert client.post(_url(tenant_a, "webhooks_test", endpoint.pk)).status_code == 403
        assert (
            client.post(
                _url(tenant_a, "webhooks_new"),
                {"url": "http://127.0.0.1:9/y", "events": ["deal.changed"]},
            ).status_code
            == 403
        )
