"""The deal board in a real browser: drag a card to another stage, reload,
it stayed; the keyboard "Move" menu does the same. Screenshots of the deal
and task pages land in test-artifacts/."""

from __future__ import annotations

import os

# Playwright's sync API runs an event loop in this thread; Django's ORM calls
# made here by fixtures would otherwise be refused.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.deals.actions import do_create_deal
from parley.deals.models import Deal, Stage
from parley.deals.pipelines import ensure_pipeline
from parley.todos.actions import do_create_task
from tests.browser import CHROMIUM, DESKTOP, dump_failure, log_in, new_page, shot
from tests.factories import Tenant, actor_for, make_tenant

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def _seed(tenant: Tenant) -> None:
    now = timezone.now()
    with workspace_context(tenant.workspace.pk):
        pipeline = ensure_pipeline(tenant.workspace.pk)
        stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position"))
        actor = actor_for(tenant.workspace, tenant.owner)
        rows = [
            ("Bakery franchise", "Ana Souza", 0, 12000),
            ("Catering contract", "Bruno Lima", 0, 3400),
            ("Wedding cakes", "Carla Dias", 1, 850),
            ("Office breakfasts", "Diego Reis", 2, 5200),
        ]
        for i, (title, name, stage, value) in enumerate(rows):
            contact = Contact.objects.create(
                workspace=tenant.workspace, wa_id=f"551199900{i:04d}", name=name
            )
            deal = do_create_deal(
                actor=actor,
                title=title,
                stage=stages[stage],
                contact=contact,
                value=Decimal(value),
                expected_close_date=(now + timedelta(days=10 * (i + 1))).date(),
            )
            do_create_task(
                actor=actor,
                title=f"Call {name.split()[0]}",
                deal=deal,
                due_at=now + timedelta(hours=4 * i - 5),
            )


def _log_in(browser: Browser, base: str, email: str) -> Page:
    return log_in(new_page(browser.new_context(viewport=DESKTOP)), base, email)


def _column(page: Page, stage: str) -> object:
    return page.get_by_role("list", name=f"Deals in {stage}")


def test_drag_a_card_to_another_stage_and_it_stays(
    live_server: LiveServer, browser: Browser, request: pytest.FixtureRequest
) -> None:
    tenant = make_tenant("Sunrise")
    _seed(tenant)
    slug = tenant.workspace.slug
    page = _log_in(browser, live_server.url, tenant.owner.email)
    try:
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Deals").click()
        page.wait_for_url(f"**/w/{slug}/deals/")
        new, proposal = _column(page, "New"), _column(page, "Proposal")
        card = page.locator(".deal-card", has_text="Catering contract")
        expect(new.locator(".deal-card")).to_have_count(2)  # type: ignore[attr-defined]
        shot(page, "deals-01-board")

        target = proposal.locator(".deal-card", has_text="Office breakfasts")  # type: ignore[attr-defined]
        with page.expect_response(re.compile(r"/deals/\d+/move/$")) as moved:
            card.drag_to(target, target_position={"x": 40, "y": 5})
        assert moved.value.status == 200
        # Column figures follow at once, without a reload.
        proposal_head = page.locator(
            "[data-column]", has=page.get_by_role("heading", name=re.compile("^Proposal"))
        )
        expect(proposal_head.locator("[data-count]")).to_have_text("2")
        expect(proposal_head.locator("[data-total]")).to_have_text("USD 8,600")

        page.reload()
        proposal = _column(page, "Proposal")
        expect(proposal.locator(".deal-card")).to_have_text(  # type: ignore[attr-defined]
            [re.compile("Catering contract"), re.compile("Office breakfasts")]
        )
        expect(_column(page, "New").locator(".deal-card")).to_have_count(1)  # type: ignore[attr-defined]
        with workspace_context(tenant.workspace.pk):
            deal = Deal.objects.get(title="Catering contract")
            assert deal.stage.name == "Proposal" and deal.position == 0

        # The keyboard way: the card's Move menu.
        wedding = page.locator(".deal-card", has_text="Wedding cakes")
        wedding.locator("summary").click()
        wedding.get_by_label("Move Wedding cakes to").select_option(label="Negotiation")
        wedding.get_by_role("button", name="Move").click()
        expect(page.get_by_role("status")).to_contain_text("Moved to Negotiation")
        expect(_column(page, "Negotiation").locator(".deal-card")).to_have_count(1)  # type: ignore[attr-defined]
        shot(page, "deals-02-board-after-moves")

        # The deal page with its history and tasks; then win it.
        page.get_by_role("link", name="Catering contract").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Catering contract")
        expect(page.locator(".deal-history")).to_contain_text("moved it from New to Proposal")
        expect(page.locator(".task-panel")).to_contain_text("Call Bruno")
        shot(page, "deals-03-deal")
        page.get_by_role("button", name="Mark won").click()
        expect(page.locator(".deal-status")).to_have_text("Won")

        page.goto(f"{live_server.url}/w/{slug}/deals/dashboard/")
        expect(page.get_by_role("heading", level=1)).to_have_text("CRM dashboard")
        expect(page.locator(".stat").first).to_contain_text("won this month")
        shot(page, "deals-04-dashboard")

        page.goto(f"{live_server.url}/w/{slug}/tasks/")
        expect(page.get_by_role("heading", level=1)).to_have_text("My tasks")
        row = page.locator(".task-row", has_text="Call Ana")
        row.get_by_role("button", name="Complete Call Ana").click()
        expect(row).to_have_class(re.compile("done"))
        shot(page, "deals-05-tasks")

        page.goto(f"{live_server.url}/w/{slug}/deals/settings/")
        shot(page, "deals-06-settings")
        with workspace_context(tenant.workspace.pk):
            contact_id = Contact.objects.get(name="Ana Souza").pk
        page.goto(f"{live_server.url}/w/{slug}/contacts/{contact_id}/")
        expect(page.locator(".deal-panel")).to_contain_text("Bakery franchise")
        shot(page, "deals-07-contact")
    except BaseException:
        dump_failure(request.node.name, page.context)
        raise
    finally:
        # Close live streams (the notification bell) before the server stops.
        page.context.close()
