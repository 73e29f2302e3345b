"""A template's life against the Cloud API simulator, over real HTTP: submitted,
reviewed by "Meta" (approved or rejected, by signed webhook to a live Parley),
paused and disabled, edited and reviewed again, sent, deleted, synced."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.inbox.tests.test_ingest import _run_jobs
from parley.msgtemplates.render import compile_template
from parley.msgtemplates.tests.helpers import body, connect, template_row, wait_until
from parley.whatsapp import cloud
from parley.whatsapp.access import credentials
from parley.whatsapp.errors import CloudApiError
from parley.whatsapp.models import MessageTemplate
from parley.whatsapp.simulator.server import SimulatorHandle
from tests.factories import Tenant, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def graph(sim: SimulatorHandle, settings: Any) -> SimulatorHandle:
    settings.WHATSAPP_GRAPH_URL = sim.graph_url
    sim.control.settings(template_review_seconds=0.2)
    return sim


def _status_after_review(tenant: Tenant, template_id: int, expected: str) -> MessageTemplate:
    """Process the webhooks the simulator posted until the template shows ``expected``."""

    def arrived() -> bool:
        _run_jobs(tenant.workspace.pk)
        return template_row(tenant, template_id).status == expected

    wait_until(arrived, what=f"status {expected}")
    return template_row(tenant, template_id)


def test_submitted_reviewed_paused_disabled_edited_sent_deleted(
    graph: SimulatorHandle, live_server: Any
) -> None:
    tenant = make_tenant("Alpha")
    channel = connect(tenant, graph, live_server.url)
    admin = Client()
    admin.force_login(tenant.admin, backend="django.contrib.auth.backends.ModelBackend")

    created = admin.post("/api/v1/templates", body(channel), content_type="application/json")
    assert created.status_code == 201, created.content
    out = created.json()
    assert out["status"] == "PENDING" and out["meta_id"]
    assert out["parameter_format"] == "POSITIONAL"
    # Meta got the structure it expects, examples included.
    [at_meta] = graph.control.templates(channel.waba_id)
    assert at_meta["id"] == out["meta_id"] and at_meta["parameter_format"] == "POSITIONAL"
    assert at_meta["components"] == [
        {
            "type": "HEADER",
            "format": "TEXT",
            "text": "Order {{1}}",
            "example": {"header_text": ["A-1042"]},
        },
        {
            "type": "BODY",
            "text": "Hi {{1}}, your order {{2}} has shipped.",
            "example": {"body_text": [["Ann", "A-1042"]]},
        },
        {"type": "FOOTER", "text": "Reply STOP to opt out"},
        {
            "type": "BUTTONS",
            "buttons": [
                {
                    "type": "URL",
                    "text": "Track order",
                    "url": "https://shop.example.test/track/{{1}}",
                    "example": ["https://shop.example.test/track/A-1042"],
                },
                {"type": "QUICK_REPLY", "text": "Talk to us"},
            ],
        },
    ]
    template_id = out["id"]

    # Meta approves it after a while and says so by webhook.
    approved = _status_after_review(tenant, template_id, "APPROVED")
    assert approved.rejected_reason == ""
    assert [h["status"] for h in approved.status_history] == ["PENDING", "APPROVED"]

    # It renders to a message the simulator's send check accepts.
    with workspace_context(tenant.workspace.pk):
        contact = Contact.objects.create(
            workspace=tenant.workspace, wa_id="15557654321", name="Ann Lee"
        )
        renderer = compile_template(
            approved,
            {
                "header": {"source": "column", "column": "order"},
                "1": {"source": "field", "field": "first_name", "fallback": "there"},
                "2": {"source": "column", "column": "order"},
                "button:0": {"source": "column", "column": "order"},
            },
        )
    rendered = renderer.render(contact, {"order": "B-7"})
    cloud.send(credentials(channel), {"to": contact.wa_id, **rendered.payload})
    [shown] = graph.control.messages(channel.phone_number_id, to=contact.wa_id)
    assert shown["text"] == "Order B-7\nHi Ann, your order B-7 has shipped.\nReply STOP to opt out"

    # Paused for low quality, then disabled: both shown with Meta's reason.
    graph.control.set_template_status(
        channel.waba_id, "order_update", "en_US", "PAUSED", reason="LOW_QUALITY"
    )
    paused = _status_after_review(tenant, template_id, "PAUSED")
    assert paused.rejected_reason == "LOW_QUALITY"
    page = admin.get(f"/w/{tenant.workspace.slug}/templates/?status=paused").content.decode()
    assert "order_update" in page and "LOW_QUALITY" in page and "tpl-paused" in page

    # A paused template may be edited: it goes back to review, then is approved again.
    edit = {k: v for k, v in body(channel).items() if k not in ("channel_id", "name", "language")}
    edit["body"] = "Hi {{1}}, your order {{2}} is on its way."
    edited = admin.put(f"/api/v1/templates/{template_id}", edit, content_type="application/json")
    assert edited.status_code == 200, edited.content
    assert edited.json()["status"] == "PENDING"
    [at_meta] = graph.control.templates(channel.waba_id)
    assert at_meta["status"] == "PENDING"
    assert at_meta["components"][1]["text"] == "Hi {{1}}, your order {{2}} is on its way."
    # Meta does not edit a template under review; neither do we.
    again = admin.put(f"/api/v1/templates/{template_id}", edit, content_type="application/json")
    assert again.status_code == 400 and again.json()["code"] == "not_editable"
    _status_after_review(tenant, template_id, "APPROVED")

    graph.control.set_template_status(channel.waba_id, "order_update", "en_US", "DISABLED")
    disabled = _status_after_review(tenant, template_id, "DISABLED")
    assert disabled.status_history[-1]["by"] == "Meta"

    # Deleted here and at Meta.
    assert admin.delete(f"/api/v1/templates/{template_id}").status_code == 204
    assert graph.control.templates(channel.waba_id) == []
    assert admin.get(f"/api/v1/templates/{template_id}").status_code == 404


def test_rejected_with_reason_then_fixed(graph: SimulatorHandle, live_server: Any) -> None:
    tenant = make_tenant("Alpha")
    channel = connect(tenant, graph, live_server.url)
    admin = Client()
    admin.force_login(tenant.admin, backend="django.contrib.auth.backends.ModelBackend")
    created = admin.post(
        "/api/v1/templates",
        body(
            channel,
            name="spring_sale",
            category="MARKETING",
            header=None,
            buttons=[],
            body="Hello {{first_name}}! REJECT_ME {{discount}} off today.",
            examples={"first_name": "Ann", "discount": "20%"},
        ),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["parameter_format"] == "NAMED"
    [at_meta] = graph.control.templates(channel.waba_id)
    assert at_meta["parameter_format"] == "NAMED"
    assert at_meta["components"][0]["example"] == {
        "body_text_named_params": [
            {"param_name": "first_name", "example": "Ann"},
            {"param_name": "discount", "example": "20%"},
        ]
    }
    template_id = created.json()["id"]
    rejected = _status_after_review(tenant, template_id, "REJECTED")
    assert rejected.rejected_reason.startswith("ABUSIVE_CONTENT: ")
    detail = admin.get(f"/w/{tenant.workspace.slug}/templates/{template_id}/").content.decode()
    assert "Rejected by Meta" in detail and "ABUSIVE_CONTENT" in detail

    # Fixed through the editor page, then approved.
    response = admin.post(
        f"/w/{tenant.workspace.slug}/templates/{template_id}/edit/",
        {
            "category": "MARKETING",
            "header_format": "NONE",
            "body": "Hello {{first_name}}! {{discount}} off today.",
            "footer": "",
            "example-first_name": "Ann",
            "example-discount": "20%",
            "button-0-type": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    approved = _status_after_review(tenant, template_id, "APPROVED")
    assert approved.rejected_reason == ""
    with workspace_context(tenant.workspace.pk):
        contact = Contact.objects.create(workspace=tenant.workspace, wa_id="15550001", name="")
    rendered = compile_template(
        approved,
        {
            "first_name": {"source": "field", "field": "first_name", "fallback": "friend"},
            "discount": {"source": "static", "value": "30%"},
        },
    ).render(contact)
    cloud.send(credentials(channel), {"to": contact.wa_id, **rendered.payload})
    [shown] = graph.control.messages(channel.phone_number_id, to=contact.wa_id)
    assert shown["text"] == "Hello friend! 30% off today."


def test_simulator_edit_endpoint_follows_metas_rules(graph: SimulatorHandle) -> None:
    tenant = make_tenant("Alpha")
    channel = connect(tenant, graph)
    creds = credentials(channel)
    # Nobody listens to this channel's webhooks: do not retry them for long.
    graph.control.settings(template_review_seconds=3600, webhook_max_attempts=1)
    created = cloud.request(
        "POST",
        creds,
        f"{channel.waba_id}/message_templates",
        json={
            "name": "hello",
            "language": "en_US",
            "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Hello"}],
        },
    )
    edit = {"components": [{"type": "BODY", "text": "Hello again"}]}
    with pytest.raises(CloudApiError, match="approved, rejected or paused"):
        cloud.request("POST", creds, created["id"], json=edit)
    graph.control.set_template_status(channel.waba_id, "hello", "en_US", "APPROVED")
    with pytest.raises(CloudApiError, match="category of an approved template"):
        cloud.request("POST", creds, created["id"], json={**edit, "category": "MARKETING"})
    with pytest.raises(CloudApiError, match="name cannot be edited"):
        cloud.request("POST", creds, created["id"], json={**edit, "name": "other"})
    assert cloud.request("POST", creds, created["id"], json=edit) == {"success": True}
    [at_meta] = graph.control.templates(channel.waba_id)
    assert at_meta["status"] == "PENDING" and at_meta["components"][0]["text"] == "Hello again"
    # Another business's token does not reach it.
    other = connect(make_tenant("Bravo"), graph)
    with pytest.raises(CloudApiError) as unknown:
        cloud.request("POST", credentials(other), created["id"], json=edit)
    assert unknown.value.http_status == 400
