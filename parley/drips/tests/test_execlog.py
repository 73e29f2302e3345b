"""Each drip step send lands in the execution log once, as a run of kind
"drip" whose source is the sequence; a failed send alerts the admins."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.drips import actions
from parley.drips.hooks import on_finished
from parley.drips.tests.helpers import contact, items, make_sequence, owner, steps_of
from parley.executions.models import Execution, ExecutionStep
from parley.notifications.models import Notification
from parley.outbox.hooks import Finished
from parley.outbox.models import OutboundItem
from tests.factories import Tenant

pytestmark = pytest.mark.django_db


def _report(tenant: Tenant, item: OutboundItem, state: str, reason: str = "") -> int:
    """What the dispatcher does: the item's final state, then the hook; returns its queries."""
    at = timezone.now()
    with workspace_context(tenant.workspace.pk):
        OutboundItem.objects.filter(pk=item.pk).update(state=state, finished_at=at, reason=reason)
        with CaptureQueriesContext(connection) as queries:
            on_finished(
                tenant.workspace.pk,
                [
                    Finished(
                        item_id=item.pk,
                        source_id=item.source_id,
                        contact_id=item.contact_id,
                        state=state,
                        reason=reason,
                        finished_at=at,
                    )
                ],
            )
    return len(queries)


def _runs(tenant: Tenant) -> list[Execution]:
    with workspace_context(tenant.workspace.pk):
        return list(Execution.objects.filter(kind="drip").order_by("id"))


def test_sent_failed_and_skipped_sends_are_logged_once_each(tenant_a: Tenant) -> None:
    sequence = make_sequence(
        tenant_a, name="Onboarding", steps=[{"text": "one"}, {"text": "two"}, {"text": "three"}]
    )
    first, second, third = steps_of(tenant_a, sequence)
    ann = contact(tenant_a, "15550002001", "Ann")
    with workspace_context(tenant_a.workspace.pk):
        actions.do_enrol(actor=owner(tenant_a), sequence=sequence, contact_ids=[ann.pk])

    _report(tenant_a, items(tenant_a)[0], "sent")
    # Reported again (the stranded sweep): not logged twice.
    _report(tenant_a, items(tenant_a)[0], "sent")
    _report(tenant_a, items(tenant_a)[1], "failed", "Outside the 24-hour window.")
    _report(tenant_a, items(tenant_a)[2], "skipped", "Skipped: the contact lacks the tag.")

    runs = _runs(tenant_a)
    assert [(r.status, r.source_id, r.source_label, r.contact_id) for r in runs] == [
        ("succeeded", sequence.pk, "Onboarding", ann.pk),
        ("failed", sequence.pk, "Onboarding", ann.pk),
        ("stopped", sequence.pk, "Onboarding", ann.pk),
    ]
    assert [r.trigger["step_id"] for r in runs] == [first.pk, second.pk, third.pk]
    assert [r.trigger["step_position"] for r in runs] == [1, 2, 3]
    assert runs[0].error == "" and runs[1].error == "Outside the 24-hour window."
    with workspace_context(tenant_a.workspace.pk):
        steps = list(ExecutionStep.objects.filter(execution__in=runs).order_by("execution_id"))
        alerts = list(Notification.objects.filter(url__contains="/automation/logs/"))
    assert [(s.key, s.type, s.status) for s in steps] == [
        ("step-1", "send_message", "ok"),
        ("step-2", "send_message", "failed"),
        ("step-3", "send_message", "skipped"),
    ]
    assert steps[1].outcome["state"] == "failed"
    assert steps[1].error == "Outside the 24-hour window."
    # The failed send told the owner and the admin, pointing at its run.
    assert sorted(n.user_id for n in alerts) == sorted([tenant_a.owner.pk, tenant_a.admin.pk])
    assert all(n.url.endswith(f"/automation/logs/{runs[1].pk}/") for n in alerts)


def test_logging_a_send_is_one_statement(tenant_a: Tenant) -> None:
    sequence = make_sequence(tenant_a, steps=[{"text": "one"}])
    people = [contact(tenant_a, f"1555000300{i}") for i in range(3)]
    with workspace_context(tenant_a.workspace.pk):
        actions.do_enrol(
            actor=owner(tenant_a), sequence=sequence, contact_ids=[p.pk for p in people]
        )
    batch = items(tenant_a)
    at = timezone.now()
    finished = [
        Finished(
            item_id=i.pk,
            source_id=i.source_id,
            contact_id=i.contact_id,
            state="sent",
            reason="",
            finished_at=at,
        )
        for i in batch
    ]
    with workspace_context(tenant_a.workspace.pk):
        OutboundItem.objects.filter(pk__in=[i.pk for i in batch]).update(
            state="sent", finished_at=at
        )
        with CaptureQueriesContext(connection) as queries:
            on_finished(tenant_a.workspace.pk, finished)
    logged = [q["sql"] for q in queries if "executions_execution" in q["sql"]]
    # The three runs and their steps in one INSERT (inside its savepoint).
    assert len(logged) == 1
    assert len(_runs(tenant_a)) == 3
