"""The rules pages (list, editor, live preview) and the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from parley.autotag import engine
from parley.autotag.models import Rule
from parley.core.tenant import workspace_context
from parley.crm.models import Tag
from parley.routing.tests.helpers import inbound
from tests.factories import Tenant, make_channel

pytestmark = pytest.mark.django_db


def _url(tenant: Tenant, tail: str = "") -> str:
    return f"/w/{tenant.workspace.slug}/automation/rules/{tail}"


def _api(client: Client, method: str, path: str, tenant: Tenant, body: Any = None) -> Any:
    return getattr(client, method)(
        f"/api/v1{path}",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {tenant.raw_token}"},
    )


@pytest.fixture
def tag(tenant_a: Tenant) -> Tag:
    engine.clear_cache()
    with workspace_context(tenant_a.workspace.pk):
        return Tag.objects.create(workspace=tenant_a.workspace, name="billing")


def _messages(tenant: Tenant) -> None:
    channel = make_channel(tenant)
    inbound(tenant, channel, wa_id="15550030001", body="Where is my <invoice>?")
    inbound(tenant, channel, wa_id="15550030002", body="hello there")
    inbound(tenant, channel, wa_id="15550030003", body="INVOICE 42 and another invoice")


def test_preview_marks_recent_matches_before_saving(tenant_a: Tenant, tag: Tag, login: Any) -> None:
    _messages(tenant_a)
    owner = login(tenant_a.owner)
    response = owner.post(
        _url(tenant_a, "preview/"),
        {"name": "", "kind": "keyword", "keywords": "invoice"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>2</strong> of the last 3" in html
    # Highlighted, and the customer's text escaped around the mark.
    assert "Where is my &lt;<mark>invoice</mark>&gt;?" in html
    assert "<mark>INVOICE</mark> 42 and another <mark>invoice</mark>" in html
    assert "hello there" not in html
    # Nothing was saved.
    with workspace_context(tenant_a.workspace.pk):
        assert not Rule.objects.exists()
    bad = owner.post(_url(tenant_a, "preview/"), {"kind": "pattern", "pattern": "(a+)+"})
    assert bad.status_code == 200 and "repeats a group" in bad.content.decode()
    # Agents do not edit rules, so no preview either.
    assert (
        login(tenant_a.agent).post(_url(tenant_a, "preview/"), {"kind": "keyword"}).status_code
        == 403
    )


def test_editor_create_edit_move_toggle_delete(tenant_a: Tenant, tag: Tag, login: Any) -> None:
    owner = login(tenant_a.owner)
    assert owner.get(_url(tenant_a, "new/")).status_code == 200
    bad = owner.post(
        _url(tenant_a, "new/"),
        {"name": "Orders", "kind": "pattern", "pattern": "(", "contact_tag_ids": [tag.pk]},
    )
    assert bad.status_code == 200 and "not a valid regular expression" in bad.content.decode()
    for name, word in (("Billing", "invoice"), ("Refunds", "refund")):
        response = owner.post(
            _url(tenant_a, "new/"),
            {
                "name": name,
                "kind": "keyword",
                "keywords": word,
                "contact_tag_ids": [tag.pk],
                "enabled": "on",
            },
        )
        assert response.status_code == 302, response.content
    with workspace_context(tenant_a.workspace.pk):
        billing, refunds = Rule.objects.order_by("position")
    assert owner.post(_url(tenant_a, f"{refunds.pk}/move/"), {"by": "-1"}).status_code == 302
    page = owner.get(_url(tenant_a)).content.decode()
    assert page.index("<strong>Refunds</strong>") < page.index("<strong>Billing</strong>")
    assert owner.post(_url(tenant_a, f"{billing.pk}/toggle/"), {"enabled": "0"}).status_code == 302
    edit = owner.post(
        _url(tenant_a, f"{billing.pk}/"),
        {
            "name": "Billing!",
            "kind": "keyword",
            "keywords": "invoice, bill",
            "conversation_tag_ids": [tag.pk],
        },
    )
    assert edit.status_code == 302
    with workspace_context(tenant_a.workspace.pk):
        billing.refresh_from_db()
        assert (billing.name, billing.keywords, billing.enabled) == (
            "Billing!",
            ["invoice", "bill"],
            False,
        )
        assert billing.conversation_tag_ids == [tag.pk] and billing.contact_tag_ids == []
    assert owner.post(_url(tenant_a, f"{billing.pk}/delete/")).status_code == 302
    # Agents read, but change nothing.
    agent = login(tenant_a.agent)
    assert agent.get(_url(tenant_a)).status_code == 200
    assert agent.get(_url(tenant_a, f"{refunds.pk}/")).status_code == 200
    assert agent.post(_url(tenant_a, f"{refunds.pk}/delete/")).status_code == 403
    assert agent.post(_url(tenant_a, f"{refunds.pk}/"), {"name": "x"}).status_code == 403


def test_api(tenant_a: Tenant, tag: Tag) -> None:
    _messages(tenant_a)
    client = Client()
    created = [
        _api(
            client,
            "post",
            "/autotag/rules",
            tenant_a,
            {"name": f"R{i}", "keywords": ["invoice"], "contact_tag_ids": [tag.pk]},
        )
        for i in range(3)
    ]
    assert [c.status_code for c in created] == [201, 201, 201]
    ids = [c.json()["id"] for c in created]
    bad = _api(
        client,
        "post",
        "/autotag/rules",
        tenant_a,
        {"name": "P", "kind": "pattern", "pattern": "([a-z]+)*x", "contact_tag_ids": [tag.pk]},
    )
    assert bad.status_code == 400 and bad.json()["code"] == "pattern_too_complex"
    reordered = _api(client, "put", "/autotag/rules/order", tenant_a, {"rule_ids": ids[::-1]})
    assert [r["id"] for r in reordered.json()] == ids[::-1]
    assert [r["position"] for r in reordered.json()] == [1, 2, 3]
    wrong = _api(client, "put", "/autotag/rules/order", tenant_a, {"rule_ids": ids[:2]})
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_order"
    patched = _api(client, "patch", f"/autotag/rules/{ids[0]}", tenant_a, {"stop_after": True})
    assert patched.json()["stop_after"] is True and patched.json()["keywords"] == ["invoice"]
    preview = _api(
        client,
        "post",
        "/autotag/rules/preview",
        tenant_a,
        {"name": "p", "kind": "pattern", "pattern": r"(?i)invoice\s+\d+"},
    ).json()
    assert preview["scanned"] == 3
    assert [m["text"][slice(*m["spans"][0])] for m in preview["matches"]] == ["INVOICE 42"]
    assert _api(client, "delete", f"/autotag/rules/{ids[1]}", tenant_a).status_code == 204
    assert [r["position"] for r in _api(client, "get", "/autotag/rules", tenant_a).json()] == [1, 2]
    assert "/api/v1/autotag/rules/preview" in client.get("/api/v1/openapi.json").json()["paths"]
