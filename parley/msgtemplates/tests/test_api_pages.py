"""Templates through the API and the pages, against the simulator (which keeps
them under review here): CRUD, validation errors with their field, preview,
render, usage, sync, and who may do what."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.msgtemplates import usage
from parley.msgtemplates.tests.helpers import body, connect, template_row
from parley.whatsapp.models import Channel
from parley.whatsapp.simulator.server import SimulatorHandle
from parley.whatsapp.tasks import sync_templates
from tests.factories import Tenant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def graph(sim: SimulatorHandle, settings: Any) -> Iterator[SimulatorHandle]:
    settings.WHATSAPP_GRAPH_URL = sim.graph_url
    # Reviews stay pending; nobody listens to the webhooks.
    sim.control.settings(template_review_seconds=3600, webhook_max_attempts=1)
    yield sim


def _client(login: Any, user: Any) -> Client:
    client: Client = login(user)
    return client


def test_api_create_validate_list_get_preview_render_usage_sync(
    graph: SimulatorHandle, tenant_a: Tenant, login: Any
) -> None:
    channel = connect(tenant_a, graph)
    admin = _client(login, tenant_a.admin)

    bad = admin.post(
        "/api/v1/templates",
        body(channel, body="Hi {{1}} and {{3}}.", examples={"1": "a", "3": "c"}),
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["field"] == "body"
    assert "without gaps" in bad.json()["message"]
    bad_button = admin.post(
        "/api/v1/templates",
        body(channel, buttons=[{"type": "URL", "text": "Go", "url": "https://x.test/{{1}}"}]),
        content_type="application/json",
    )
    assert bad_button.status_code == 400 and bad_button.json()["field"] == "buttons.0.example"
    assert graph.control.templates(channel.waba_id) == []  # nothing reached Meta

    created = admin.post("/api/v1/templates", body(channel), content_type="application/json")
    assert created.status_code == 201, created.content
    out = created.json()
    assert (out["name"], out["status"], out["category"]) == ("order_update", "PENDING", "UTILITY")
    assert [v["key"] for v in out["variables"]] == ["header", "1", "2", "button:0"]
    duplicate = admin.post("/api/v1/templates", body(channel), content_type="application/json")
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "name"

    # Meta's own refusal (here: it already has this name) comes back with the field.
    graph.control.seed_template(channel.waba_id, "made_elsewhere", body="Hi")
    refused = admin.post(
        "/api/v1/templates", body(channel, name="made_elsewhere"), content_type="application/json"
    )
    assert refused.status_code == 409 and refused.json()["field"] == "name"

    listed = admin.get("/api/v1/templates?status=pending").json()
    assert [t["id"] for t in listed["items"]] == [out["id"]]
    assert admin.get("/api/v1/templates?status=approved").json()["items"] == []
    assert admin.get("/api/v1/templates?status=nope").json()["field"] == "status"
    assert admin.get(f"/api/v1/templates?channel_id={channel.pk + 999}").json()["items"] == []
    assert admin.get(f"/api/v1/templates/{out['id']}").json()["meta_id"] == out["meta_id"]

    preview = admin.post(
        f"/api/v1/templates/{out['id']}/preview",
        {"samples": {"1": "Bob"}},
        content_type="application/json",
    ).json()
    assert preview["header"] == "Order A-1042"
    assert preview["body"] == "Hi Bob, your order A-1042 has shipped."
    assert preview["buttons"][0]["detail"] == "https://shop.example.test/track/A-1042"

    with workspace_context(tenant_a.workspace.pk):
        contact = Contact.objects.create(
            workspace=tenant_a.workspace, wa_id="15550002222", name="Cy Young"
        )
    mapping = {
        "header": {"source": "static", "value": "Z-9"},
        "1": {"source": "field", "field": "first_name"},
        "2": {"source": "column", "column": "order"},
        "button:0": {"source": "column", "column": "order"},
    }
    rendered = admin.post(
        f"/api/v1/templates/{out['id']}/render",
        {"contact_id": contact.pk, "mapping": mapping, "values": {"order": "Z-9"}},
        content_type="application/json",
    ).json()
    assert rendered["text"] == "Hi Cy, your order Z-9 has shipped."
    assert rendered["payload"]["template"]["components"][1]["parameters"][0]["text"] == "Cy"
    empty = admin.post(
        f"/api/v1/templates/{out['id']}/render",
        {"contact_id": contact.pk, "mapping": mapping, "values": {}},
        content_type="application/json",
    )
    assert empty.status_code == 400 and empty.json()["field"] == "mapping"
    assert "column order" in empty.json()["message"]

    with workspace_context(tenant_a.workspace.pk):
        usage.record(
            workspace_id=tenant_a.workspace.pk,
            template_id=out["id"],
            source="broadcast",
            source_id=5,
            count=3,
        )
    used = admin.get(f"/api/v1/templates/{out['id']}/usage").json()
    assert [(u["source"], u["source_id"], u["count"]) for u in used] == [("broadcast", 5, 3)]

    # Sync now: the job brings in what Meta has, statuses included.
    synced = admin.post(
        "/api/v1/templates/sync", {"channel_id": channel.pk}, content_type="application/json"
    )
    assert synced.status_code == 202 and synced.json() == {"channels": 1}
    graph.control.set_template_status(channel.waba_id, "order_update", "en_US", "APPROVED")
    sync_templates.func(workspace_id=tenant_a.workspace.pk, channel_id=channel.pk)
    statuses = {t["name"]: t["status"] for t in admin.get("/api/v1/templates").json()["items"]}
    assert statuses == {"order_update": "APPROVED", "made_elsewhere": "APPROVED"}
    with workspace_context(tenant_a.workspace.pk):
        assert usage.totals(tenant_a.workspace.pk, [out["id"]])[out["id"]].count == 3


def test_roles_viewers_and_agents_read_only(
    graph: SimulatorHandle, tenant_a: Tenant, login: Any
) -> None:
    channel = connect(tenant_a, graph)
    admin = _client(login, tenant_a.admin)
    created = admin.post("/api/v1/templates", body(channel), content_type="application/json")
    template_id = created.json()["id"]
    slug = tenant_a.workspace.slug
    for user in (tenant_a.viewer, tenant_a.agent):
        client = _client(login, user)
        assert client.get("/api/v1/templates").status_code == 200
        assert client.get(f"/api/v1/templates/{template_id}").status_code == 200
        assert client.get(f"/api/v1/templates/{template_id}/usage").status_code == 200
        assert (
            client.post(
                "/api/v1/templates", body(channel, name="x"), content_type="application/json"
            ).status_code
            == 403
        )
        assert (
            client.put(
                f"/api/v1/templates/{template_id}", body(channel), content_type="application/json"
            ).status_code
            == 403
        )
        assert client.delete(f"/api/v1/templates/{template_id}").status_code == 403
        assert (
            client.post("/api/v1/templates/sync", {}, content_type="application/json").status_code
            == 403
        )
        index = client.get(f"/w/{slug}/templates/")
        assert index.status_code == 200 and "order_update" in index.content.decode()
        assert "New template" not in index.content.decode()
        detail = client.get(f"/w/{slug}/templates/{template_id}/").content.decode()
        assert "order_update" in detail and "Delete" not in detail
        assert client.get(f"/w/{slug}/templates/new/").status_code == 403
        assert client.post(f"/w/{slug}/templates/{template_id}/delete/").status_code == 403
    assert template_row(tenant_a, template_id).status == "PENDING"
    # A token without the campaigns:write scope cannot create either.
    from tests.factories import make_token

    _token, raw = make_token(tenant_a.workspace, tenant_a.owner, scopes=("campaigns:read",))
    scoped = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert scoped.get("/api/v1/templates").status_code == 200
    refused = scoped.post(
        "/api/v1/templates", body(channel, name="y"), content_type="application/json"
    )
    assert refused.status_code == 403


def test_editor_page_preview_detail_and_sync(
    graph: SimulatorHandle, tenant_a: Tenant, login: Any
) -> None:
    channel: Channel = connect(tenant_a, graph)
    admin = _client(login, tenant_a.admin)
    slug = tenant_a.workspace.slug
    page = admin.get(f"/w/{slug}/templates/new/").content.decode()
    assert f'<option value="{channel.pk}" selected>' in page and 'name="body"' in page

    form = {
        "channel_id": str(channel.pk),
        "name": "Welcome Offer",
        "category": "MARKETING",
        "language": "en_US",
        "header_format": "IMAGE",
        "header_media": "",
        "body": "Hi {{first_name}}, enjoy {{discount}} off!",
        "footer": "",
        "example-first_name": "Ann",
        "button-0-type": "PHONE_NUMBER",
        "button-0-text": "Call us",
        "button-0-phone_number": "12345",
    }
    refused = admin.post(f"/w/{slug}/templates/new/", form)
    html = refused.content.decode()
    assert refused.status_code == 400
    assert "lowercase letters, digits and underscores" in html
    assert "Give an example image" in html
    assert "example value for {{discount}}" in html
    assert "country code" in html
    assert graph.control.templates(channel.waba_id) == []

    # The live preview: the bubble, and new example inputs when the variables change.
    preview = admin.post(
        f"/w/{slug}/templates/preview/", {**form, "example_keys": "first_name"}
    ).content.decode()
    assert 'id="tpl-examples"' in preview and 'name="example-discount"' in preview
    assert "Hi " in preview and ">Ann<" in preview and "{{discount}}" in preview
    same = admin.post(
        f"/w/{slug}/templates/preview/", {**form, "example_keys": "first_name,discount"}
    ).content.decode()
    assert 'id="tpl-examples"' not in same and "Call us" in same

    more = admin.post(f"/w/{slug}/templates/new/", {**form, "add_button": "1"})
    assert more.status_code == 200 and 'name="button-2-type"' in more.content.decode()

    fixed = {
        **form,
        "name": "welcome_offer",
        "header_media": "https://cdn.example.test/welcome.jpg",
        "example-discount": "20%",
        "button-0-phone_number": "+15551234567",
    }
    created = admin.post(f"/w/{slug}/templates/new/", fixed)
    assert created.status_code == 302
    [at_meta] = graph.control.templates(channel.waba_id)
    assert at_meta["name"] == "welcome_offer" and at_meta["parameter_format"] == "NAMED"
    assert at_meta["components"][0] == {
        "type": "HEADER",
        "format": "IMAGE",
        "example": {"header_handle": ["https://cdn.example.test/welcome.jpg"]},
    }
    detail_url = created["Location"]
    detail = admin.get(detail_url).content.decode()
    assert "Not sent yet." in detail and 'name="sample-discount"' in detail
    assert "Submitted for review" in detail and "tpl-pending" in detail
    sample = admin.get(
        detail_url, {"sample-first_name": "Zoe", "sample-discount": "50%"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert ">Zoe<" in sample and ">50%<" in sample and "<html" not in sample
    # Pending: not editable yet.
    template_id = int(detail_url.rstrip("/").split("/")[-1])
    edit = admin.get(f"/w/{slug}/templates/{template_id}/edit/").content.decode()
    assert "approved, rejected or paused templates only" in edit
    with workspace_context(tenant_a.workspace.pk):
        usage.record(
            workspace_id=tenant_a.workspace.pk,
            template_id=template_id,
            source="agent",
            source_id=tenant_a.agent.pk,
        )
    detail = admin.get(detail_url).content.decode()
    assert "Agent (inbox): Alpha Agent" in detail

    synced = admin.post(f"/w/{slug}/templates/sync/", {"channel_id": str(channel.pk)})
    assert synced.status_code == 302
    index = admin.get(f"/w/{slug}/templates/").content.decode()
    assert "Fetching the templates from Meta" in index and "welcome_offer" in index

    deleted = admin.post(f"/w/{slug}/templates/{template_id}/delete/")
    assert deleted.status_code == 302 and graph.control.templates(channel.waba_id) == []
