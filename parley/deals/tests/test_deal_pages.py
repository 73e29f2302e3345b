"""The board, the move endpoint, the deal form and page, and what deals add
to the contact page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.crm.timeline import timeline
from parley.deals.actions import do_create_deal, do_mark_won, do_move_deal
from parley.deals.models import Deal, Stage
from parley.deals.pipelines import ensure_pipeline
from tests.factories import Tenant, actor_for

pytestmark = pytest.mark.django_db


def _seed(tenant: Tenant, n: int, start: int = 0) -> list[Stage]:
    """n deals spread over the default stages, each with a contact and an owner."""
    with workspace_context(tenant.workspace.pk):
        pipeline = ensure_pipeline(tenant.workspace.pk)
        stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position"))
        actor = actor_for(tenant.workspace, tenant.agent)
        for i in range(start, start + n):
            contact = Contact.objects.create(
                workspace=tenant.workspace, wa_id=f"49151000{i:05d}", name=f"Customer {i}"
            )
            do_create_deal(
                actor=actor,
                title=f"Deal {i}",
                stage=stages[i % len(stages)],
                contact=contact,
                value=Decimal(100 * (i + 1)),
                owner_id=tenant.admin.pk if i % 2 else None,
            )
    return stages


def test_board_shows_columns_with_counts_and_totals_in_few_queries(
    tenant_a: Tenant, login: Any, django_assert_max_num_queries: Any
) -> None:
    _seed(tenant_a, 4)
    viewer: Client = login(tenant_a.viewer)
    url = f"/w/{tenant_a.workspace.slug}/deals/"
    viewer.get(url)
    with django_assert_max_num_queries(16):
        page = viewer.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Deal 0" in html and "Customer 3" in html and "USD 400" in html
    assert 'draggable="true"' not in html  # viewers cannot move cards
    _seed(tenant_a, 12, start=4)  # three times the deals, the same queries
    with django_assert_max_num_queries(16):
        assert viewer.get(url).status_code == 200


def test_move_endpoint_answers_json_and_form_posts(tenant_a: Tenant, login: Any) -> None:
    stages = _seed(tenant_a, 2)
    agent: Client = login(tenant_a.agent)
    with workspace_context(tenant_a.workspace.pk):
        deal = Deal.objects.get(title="Deal 0")
    url = f"/w/{tenant_a.workspace.slug}/deals/{deal.pk}/move/"
    r = agent.post(url, {"stage": stages[1].pk, "position": "0"}, HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    body = r.json()
    assert body["stage_id"] == stages[1].pk and body["position"] == 0
    assert body["columns"][str(stages[1].pk)] == {"count": 2, "total": "USD 300"}
    assert str(stages[0].pk) not in body["columns"]  # emptied
    with workspace_context(tenant_a.workspace.pk):
        order = list(
            Deal.objects.filter(stage=stages[1])
            .order_by("position")
            .values_list("title", flat=True)
        )
    assert order == ["Deal 0", "Deal 1"]
    bad = agent.post(url, {"stage": "x"}, HTTP_ACCEPT="application/json")
    assert bad.status_code == 400 and bad.json()["field"] == "stage_id"
    # The keyboard path: the card's "Move to" form.
    r = agent.post(url, {"stage": stages[2].pk})
    assert r.status_code == 302
    with workspace_context(tenant_a.workspace.pk):
        assert Deal.objects.get(pk=deal.pk).stage_id == stages[2].pk
    assert login(tenant_a.viewer).post(url, {"stage": stages[0].pk}).status_code == 403


def test_create_form_errors_and_deal_page(tenant_a: Tenant, login: Any) -> None:
    _seed(tenant_a, 1)
    agent: Client = login(tenant_a.agent)
    slug = tenant_a.workspace.slug
    with workspace_context(tenant_a.workspace.pk):
        contact = Contact.objects.get()
        stage = Stage.objects.get(name="Proposal")
    form = agent.get(f"/w/{slug}/deals/new/?contact={contact.pk}")
    assert form.status_code == 200 and "Customer 0" in form.content.decode()
    bad = agent.post(
        f"/w/{slug}/deals/new/",
        {"title": "Renewal", "stage_id": stage.pk, "value": "10", "currency": "EUD"},
    )
    assert bad.status_code == 200 and "not an ISO 4217 currency code" in bad.content.decode()
    made = agent.post(
        f"/w/{slug}/deals/new/",
        {
            "title": "Renewal",
            "stage_id": stage.pk,
            "value": "1250.50",
            "currency": "eur",
            "contact_id": contact.pk,
            "owner_id": tenant_a.admin.pk,
            "expected_close_date": "2030-01-31",
        },
    )
    assert made.status_code == 302
    with workspace_context(tenant_a.workspace.pk):
        deal = Deal.objects.get(title="Renewal")
    assert (deal.currency, deal.value, deal.owner_id) == (
        "EUR",
        Decimal("1250.50"),
        tenant_a.admin.pk,
    )
    page = agent.get(made["Location"]).content.decode()
    assert "EUR 1,250.50" in page and "created the deal in Proposal" in page
    assert "Open tasks" in page  # the todos app's panel
    lost = agent.post(made["Location"], {"op": "lost", "reason": ""}, follow=True)
    assert "Say why the deal was lost" in lost.content.decode()
    agent.post(made["Location"], {"op": "lost", "reason": "Too pricey"})
    page = agent.get(made["Location"]).content.decode()
    assert "marked it lost: Too pricey" in page and "Reopen" in page


def test_contact_panel_and_timeline(tenant_a: Tenant, login: Any) -> None:
    _seed(tenant_a, 1)
    with workspace_context(tenant_a.workspace.pk):
        contact = Contact.objects.get()
        deal = Deal.objects.get()
        actor = actor_for(tenant_a.workspace, tenant_a.agent)
        do_move_deal(actor=actor, deal=deal, stage=Stage.objects.get(name="Proposal"))
        do_mark_won(actor=actor, deal=deal)
        entries = [
            e
            for e in timeline(workspace_id=tenant_a.workspace.pk, contact_id=contact.pk)
            if e.kind == "deal"
        ]
    assert [e.title for e in entries] == [
        "Deal Deal 0: marked it won (USD 100)",
        "Deal Deal 0: moved it from New to Proposal",
        "Deal Deal 0: created the deal in New (USD 100)",
    ]
    page = login(tenant_a.agent).get(f"/w/{tenant_a.workspace.slug}/contacts/{contact.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f"/deals/new/?contact={contact.pk}" in html and "Deal 0" in html
