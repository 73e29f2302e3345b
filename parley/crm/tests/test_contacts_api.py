"""Contacts, consent and tags through the API (the CRM's first slice)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from parley.core.tenant import workspace_context
from parley.crm.models import Contact, ContactTag
from parley.inbox.tests.test_ingest import _post, _run_jobs, text_payload
from tests.factories import Tenant, make_channel

pytestmark = pytest.mark.django_db


def _json(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(client, method)(url, body, content_type="application/json")


def test_numbers_are_normalised_with_the_workspace_country(tenant_a: Tenant, login: Any) -> None:
    tenant_a.workspace.default_country = "DE"
    tenant_a.workspace.save(update_fields=["default_country"])
    agent: Client = login(tenant_a.agent)
    created = _json(agent, "post", "/api/v1/contacts", {"phone": "0151 23456789", "name": "Ada"})
    assert created.status_code == 201
    assert created.json()["phone_e164"] == "+4915123456789"
    assert created.json()["wa_id"] == "4915123456789"
    same = _json(agent, "post", "/api/v1/contacts", {"phone": "+49 (151) 234-56789"})
    assert same.status_code == 409 and same.json()["field"] == "phone"
    bad = _json(agent, "post", "/api/v1/contacts", {"phone": "12", "email": "x"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_phone"
    bad_email = _json(
        agent, "post", "/api/v1/contacts", {"phone": "+4915123456701", "email": "nope"}
    )
    assert bad_email.status_code == 400 and bad_email.json()["field"] == "email"
    viewer: Client = login(tenant_a.viewer)
    assert _json(viewer, "post", "/api/v1/contacts", {"phone": "+4915123456702"}).status_code == 403
    assert viewer.get("/api/v1/contacts?q=ada").json()["items"][0]["name"] == "Ada"


def test_edit_consent_and_delete(tenant_a: Tenant, login: Any) -> None:
    agent: Client = login(tenant_a.agent)
    contact_id = _json(agent, "post", "/api/v1/contacts", {"phone": "+4915123456703"}).json()["id"]
    edited = _json(
        agent,
        "patch",
        f"/api/v1/contacts/{contact_id}",
        {"name": "Grace", "email": "G@Example.com"},
    )
    assert (edited.json()["name"], edited.json()["email"]) == ("Grace", "g@example.com")
    out = _json(
        agent,
        "post",
        f"/api/v1/contacts/{contact_id}/consent",
        {"consent": "opted_out", "source": "phone call"},
    )
    assert out.json()["consent"] == "opted_out" and out.json()["consent_source"] == "phone call"
    assert (
        _json(
            agent, "post", f"/api/v1/contacts/{contact_id}/consent", {"consent": "maybe"}
        ).status_code
        == 400
    )
    assert agent.delete(f"/api/v1/contacts/{contact_id}").status_code == 204
    assert agent.get(f"/api/v1/contacts/{contact_id}").status_code == 404


def test_tags_in_bulk_ignore_foreign_ids(tenant_a: Tenant, tenant_b: Tenant, login: Any) -> None:
    agent: Client = login(tenant_a.agent)
    ids = [
        _json(agent, "post", "/api/v1/contacts", {"phone": f"+49151234568{n:02d}"}).json()["id"]
        for n in range(3)
    ]
    other = _json(
        login(tenant_b.agent), "post", "/api/v1/contacts", {"phone": "+4915123456799"}
    ).json()["id"]
    tag = _json(agent, "post", "/api/v1/tags", {"name": "VIP", "color": "#e11d48"}).json()
    assert _json(agent, "post", "/api/v1/tags", {"name": "vip"}).status_code == 409
    assert _json(agent, "post", "/api/v1/tags", {"name": "Bad", "color": "red"}).status_code == 400
    added = _json(
        agent, "post", f"/api/v1/tags/{tag['id']}/contacts", {"contact_ids": [*ids, other]}
    )
    assert added.json() == {"changed": 3}
    again = _json(agent, "post", f"/api/v1/tags/{tag['id']}/contacts", {"contact_ids": ids})
    assert again.json() == {"changed": 0}
    tagged = agent.get(f"/api/v1/contacts?tag_id={tag['id']}").json()["items"]
    assert sorted(c["id"] for c in tagged) == sorted(ids)
    assert tagged[0]["tags"] == [{"id": tag["id"], "name": "VIP", "color": "#e11d48"}]
    removed = _json(
        agent, "post", f"/api/v1/tags/{tag['id']}/contacts/remove", {"contact_ids": ids[:2]}
    )
    assert removed.json() == {"changed": 2}
    with workspace_context(tenant_b.workspace.pk):
        assert not ContactTag.objects.exists()


def test_a_customer_writing_stop_opts_out(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    _post(channel, text_payload(channel.phone_number_id, "wamid.1", body="Hello"))
    _post(channel, text_payload(channel.phone_number_id, "wamid.2", body="  STOP "))
    _run_jobs(tenant_a.workspace.pk)
    with workspace_context(tenant_a.workspace.pk):
        contact = Contact.objects.get()
    assert (contact.consent, contact.consent_source) == ("opted_out", "keyword")
    _post(channel, text_payload(channel.phone_number_id, "wamid.3", body="start"))
    _run_jobs(tenant_a.workspace.pk)
    with workspace_context(tenant_a.workspace.pk):
        contact.refresh_from_db()
    assert contact.consent == "opted_in"


def test_custom_attributes_are_typed(tenant_a: Tenant, login: Any) -> None:
    admin: Client = login(tenant_a.admin)
    for body in (
        {"key": "plan", "type": "choice", "choices": ["free", "gold"]},
        {"key": "renewal", "label": "Renewal date", "type": "date"},
        {"key": "seats", "type": "number"},
        {"key": "vip", "type": "boolean"},
    ):
        assert _json(admin, "post", "/api/v1/attributes", body).status_code == 201
    assert (
        _json(admin, "post", "/api/v1/attributes", {"key": "plan", "type": "text"}).status_code
        == 409
    )
    assert (
        _json(admin, "post", "/api/v1/attributes", {"key": "9bad", "type": "text"}).json()["field"]
        == "key"
    )
    assert (
        _json(
            login(tenant_a.agent), "post", "/api/v1/attributes", {"key": "x", "type": "text"}
        ).status_code
        == 403
    )
    contact_id = _json(admin, "post", "/api/v1/contacts", {"phone": "+4915123456721"}).json()["id"]
    url = f"/api/v1/contacts/{contact_id}"
    ok = _json(
        admin,
        "patch",
        url,
        {"attributes": {"plan": "gold", "renewal": "2027-01-31", "seats": "1,200", "vip": "yes"}},
    )
    assert ok.json()["attributes"] == {
        "plan": "gold",
        "renewal": "2027-01-31",
        "seats": 1200,
        "vip": True,
    }
    for bad, field in (
        ({"plan": "platinum"}, "attributes.plan"),
        ({"renewal": "31/01/2027"}, "attributes.renewal"),
        ({"seats": "many"}, "attributes.seats"),
        ({"colour": "red"}, "attributes.colour"),
    ):
        refused = _json(admin, "patch", url, {"attributes": bad, "name": "Not saved"})
        assert refused.status_code == 400 and refused.json()["field"] == field, bad
    kept = admin.get(url).json()
    assert kept["name"] == "" and kept["attributes"]["plan"] == "gold"  # nothing half-saved
    cleared = _json(admin, "patch", url, {"attributes": {"vip": None}}).json()["attributes"]
    assert "vip" not in cleared
    plan_id = next(a["id"] for a in admin.get("/api/v1/attributes").json() if a["key"] == "plan")
    assert admin.delete(f"/api/v1/attributes/{plan_id}").status_code == 204
    assert "plan" not in admin.get(url).json()["attributes"]
