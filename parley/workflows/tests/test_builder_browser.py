"""The builder as a new user meets it, in Chromium: a keyword workflow with a
button question and a timeout branch, built, published and turned on, then
run by a customer's messages through the real ingest path."""

from __future__ import annotations

import os

# Playwright's sync API runs an event loop in this thread; Django's ORM calls
# made here by fixtures would otherwise be refused.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from parley.core.tenant import workspace_context
from parley.crm.models import Contact, ContactTag
from parley.inbox.models import Message
from parley.workflows.models import RunStatus, Workflow, WorkflowRun
from parley.workflows.tests.helpers import button, inbound, run_workflow_jobs, text
from tests.browser import CHROMIUM, DESKTOP, dump_failure, log_in, new_page, shot
from tests.factories import make_channel, make_tenant

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]


def _add(page: Page, scope: str, index: int, kind: str) -> None:
    adder = page.locator(scope).get_by_label("Add a step here").nth(index)
    adder.click()
    form = page.locator(".wf-add[open] form")
    form.get_by_label("Step type").select_option(kind)
    form.get_by_role("button", name="Add").click()
    expect(page.locator("#wf-step-form")).to_be_visible()
    expect(page.locator(".wf-add[open]")).to_have_count(0)


def test_build_a_keyword_question_with_a_timeout_branch(
    live_server: LiveServer, browser: Browser, request: pytest.FixtureRequest
) -> None:
    tenant = make_tenant("Lighthouse")
    channel = make_channel(tenant)
    context = browser.new_context(viewport=DESKTOP)
    page = new_page(context)
    try:
        log_in(page, live_server.url, tenant.admin.email)
        page.goto(f"{live_server.url}/w/{tenant.workspace.slug}/automation/workflows/")
        page.get_by_role("textbox", name="New workflow").fill("Pricing questions")
        page.get_by_role("button", name="Create").click()
        expect(page.locator("h1")).to_have_text("Pricing questions")

        page.get_by_label("Starts when").select_option("message_received")
        page.get_by_label("Match").select_option("keywords")
        page.get_by_label("Keywords (comma separated)").fill("pricing, price")
        page.get_by_role("button", name="Save trigger").click()
        expect(page.locator(".wf-node.trigger")).to_contain_text("keywords pricing, price")

        _add(page, ".wf-canvas", 0, "ask_buttons")
        page.get_by_label("Question").fill("Hi {{contact.first_name}}! Shall we call you?")
        page.get_by_label("Buttons (one per line").fill("Yes please\nNo thanks")
        page.get_by_label("Wait for the answer (minutes)").fill("30")
        page.get_by_role("button", name="Save step").click()
        expect(page.locator(".wf-branch")).to_have_count(3)
        expect(page.locator("#wf-step-form")).to_have_count(0)

        _add(page, ".wf-branch:nth-child(1)", 0, "add_tags")
        page.get_by_label("Tags (comma separated)").fill("Wants a call")
        page.get_by_role("button", name="Save step").click()
        # Each edit redraws the flow: wait for it before the next click.
        expect(page.locator(".wf-branch").nth(0)).to_contain_text("Wants a call")
        _add(page, ".wf-branch:nth-child(3)", 0, "send_text")
        page.get_by_label("Text").fill("We'll be here when you're ready.")
        page.get_by_role("button", name="Save step").click()
        expect(page.locator(".wf-branch").nth(2)).to_contain_text("when you're ready")
        shot(page, "workflow-builder")

        page.get_by_role("button", name="Publish version 1").click()
        expect(page.locator(".messages")).to_contain_text("the workflow is on")
        expect(page.locator(".wf-state.on")).to_be_visible()

        page.get_by_role("textbox", name="Message").fill("what is the price?")
        page.get_by_role("button", name="Try it").click()
        expect(page.locator("#wf-dry")).to_contain_text("The trigger fires")
        expect(page.locator("#wf-dry")).to_contain_text("Waits for the answer")
        shot(page, "workflow-dry-run")
    except Exception:
        dump_failure(request.node.name, context)
        raise
    finally:
        context.close()

    with workspace_context(tenant.workspace.pk):
        workflow = Workflow.objects.get()
    assert workflow.enabled and workflow.trigger_type == "message_received"
    inbound(tenant, channel, "15550009901", text("Pricing?"))
    run_workflow_jobs()
    inbound(tenant, channel, "15550009901", button("btn_1", "Yes please"))
    run_workflow_jobs()
    with workspace_context(tenant.workspace.pk):
        contact = Contact.objects.get(wa_id="15550009901")
        tags = list(ContactTag.objects.filter(contact=contact).values_list("tag__name", flat=True))
        asked = list(Message.objects.filter(direction="out").values_list("text", flat=True))
        run = WorkflowRun.objects.get()
    assert asked == ["Hi Dee! Shall we call you?"]
    assert tags == ["Wants a call"]
    assert run.status == RunStatus.SUCCEEDED
