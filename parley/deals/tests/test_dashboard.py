"""The CRM dashboard's figures come from real rows, in a handful of queries."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.deals.actions import do_create_deal, do_mark_lost, do_mark_won
from parley.deals.dashboard import summary
from parley.deals.models import Deal, Stage
from parley.deals.pipelines import ensure_pipeline
from parley.todos.actions import do_create_task
from tests.factories import Tenant, actor_for

pytestmark = pytest.mark.django_db

# Mid-month, so "this month" and "last month" are unambiguous.
NOW = datetime(2026, 5, 15, 12, 0, tzinfo=ZoneInfo("UTC"))


def _seed(tenant: Tenant) -> dict[str, Any]:
    with workspace_context(tenant.workspace.pk):
        pipeline = ensure_pipeline(tenant.workspace.pk)
        new, qualified, proposal, _negotiation = Stage.objects.filter(pipeline=pipeline).order_by(
            "position"
        )
        actor = actor_for(tenant.workspace, tenant.agent)

        def deal(title: str, stage: Stage, value: int, currency: str = "USD") -> Deal:
            return do_create_deal(
                actor=actor, title=title, stage=stage, value=value, currency=currency
            )

        deal("open-1", new, 100)
        deal("open-2", new, 250)
        deal("open-3", proposal, 1000)
        deal("open-eur", proposal, 80, "EUR")
        won_now = [deal("won-1", qualified, 300), deal("won-2", qualified, 700)]
        won_before = deal("won-old", qualified, 5000)
        lost_now = deal("lost-1", new, 40)
        for d in (*won_now, won_before):
            do_mark_won(actor=actor, deal=d)
        do_mark_lost(actor=actor, deal=lost_now, reason="No budget")
        Deal.objects.filter(pk__in=[d.pk for d in won_now]).update(
            closed_at=NOW - timedelta(days=3)
        )
        Deal.objects.filter(pk=lost_now.pk).update(closed_at=NOW - timedelta(days=1))
        Deal.objects.filter(pk=won_before.pk).update(closed_at=NOW - timedelta(days=20))
        # A deal won two months ago counts nowhere.
        old = deal("won-ancient", qualified, 9)
        do_mark_won(actor=actor, deal=old)
        Deal.objects.filter(pk=old.pk).update(closed_at=NOW - timedelta(days=70))
        for days_ago, n in ((0, 2), (2, 1), (9, 5)):
            for i in range(n):
                Contact.objects.create(
                    workspace=tenant.workspace,
                    wa_id=f"4917{days_ago:02d}{i:05d}",
                    created_at=NOW - timedelta(days=days_ago, minutes=i),
                )
        do_create_task(actor=actor, title="late", due_at=NOW - timedelta(hours=2))
        do_create_task(actor=actor, title="later today", due_at=NOW + timedelta(hours=2))
        do_create_task(actor=actor, title="tomorrow", due_at=NOW + timedelta(days=1))
    return {"pipeline": pipeline, "stages": (new, qualified, proposal)}


def test_figures(tenant_a: Tenant) -> None:
    seeded = _seed(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        actor = actor_for(tenant_a.workspace, tenant_a.agent)
        s = summary(actor, seeded["pipeline"], now=NOW)
    by_stage = {bar.stage.name: bar for bar in s.stages}
    assert by_stage["New"].count == 2
    assert [(m.currency, m.amount) for m in by_stage["New"].totals] == [("USD", Decimal("350"))]
    assert by_stage["Qualified"].count == 0  # won deals leave the open pipeline
    assert sorted((m.currency, m.amount) for m in by_stage["Proposal"].totals) == [
        ("EUR", Decimal("80")),
        ("USD", Decimal("1000")),
    ]
    assert s.currency == "USD"
    assert by_stage["Proposal"].percent == 100 and by_stage["New"].percent == 35
    assert s.won_this_month.count == 2
    assert [(m.currency, m.amount) for m in s.won_this_month.totals] == [("USD", Decimal("1000"))]
    assert s.won_last_month.count == 1
    assert s.won_last_month.totals[0].amount == Decimal("5000")
    assert s.lost_this_month.count == 1 and s.lost_last_month.count == 0
    assert [d.count for d in s.new_contacts] == [0, 0, 0, 0, 1, 0, 2]
    assert s.new_contacts_total == 3


def test_dashboard_page_and_api(
    tenant_a: Tenant, login: Any, django_assert_max_num_queries: Any
) -> None:
    _seed(tenant_a)
    viewer: Client = login(tenant_a.viewer)
    url = f"/w/{tenant_a.workspace.slug}/deals/dashboard/"
    with django_assert_max_num_queries(19):
        page = viewer.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Open pipeline value by stage" in html and "USD 1,000 · EUR 80" in html
    assert "tasks overdue" in html
    with django_assert_max_num_queries(16):
        api = viewer.get("/api/v1/crm/dashboard")
    body = api.json()
    assert api.status_code == 200
    new = next(s for s in body["stages"] if s["name"] == "New")
    assert new["count"] == 2 and new["totals"] == [{"currency": "USD", "amount": "350.00"}]
    assert set(body["extra"]["tasks"]) == {"overdue", "today", "mine_overdue", "mine_today"}
    # Against the real clock (after NOW) all three seeded tasks are overdue.
    assert timezone.now() > NOW
    assert body["extra"]["tasks"]["overdue"] == 3 and body["extra"]["tasks"]["today"] == 0
    assert body["extra"]["tasks"]["mine_overdue"] == 0  # the viewer's own: none
