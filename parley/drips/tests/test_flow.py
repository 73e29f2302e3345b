"""A contact's way through a sequence: the next step planned when one
finishes, windows, exits, pause and resume without a burst, step conditions."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from parley.core.errors import ActionError
from parley.core.tenant import workspace_context
from parley.crm.actions import do_set_consent, do_tag_contacts
from parley.crm.merge import do_merge_contacts
from parley.crm.models import Contact
from parley.drips import actions
from parley.drips.models import Enrolment, StepRun
from parley.drips.tasks import advance_stranded
from parley.drips.tests.helpers import (
    check,
    contact,
    enrolments,
    finish,
    items,
    make_sequence,
    owner,
    run_drip_jobs,
    steps_of,
    tag,
)
from parley.inbox.tasks import process_webhook
from parley.outbox.models import OutboundItem
from parley.segments.models import Segment
from parley.whatsapp.models import WebhookEvent
from parley.whatsapp.samples import text_webhook
from parley.whatsapp.signatures import sign
from tests.factories import Tenant, make_channel

pytestmark = pytest.mark.django_db

TWO_STEPS: list[dict[str, Any]] = [
    {"text": "Welcome!"},
    {"text": "How is it going?", "delay_amount": 2, "delay_unit": "hours"},
]


def _enrol(tenant: Tenant, sequence: object, *contacts: Contact) -> None:
    with workspace_context(tenant.workspace.pk):
        actions.do_enrol(
            actor=owner(tenant),
            sequence=sequence,  # type: ignore[arg-type]
            contact_ids=[c.pk for c in contacts],
        )


def test_next_step_is_planned_when_the_previous_finishes_then_the_enrolment_completes(
    tenant_a: Tenant,
) -> None:
    sequence = make_sequence(tenant_a, steps=TWO_STEPS)
    first, second = steps_of(tenant_a, sequence)
    ann = contact(tenant_a, "15550001001")
    _enrol(tenant_a, sequence, ann)
    [item1] = items(tenant_a)
    assert item1.source_id == first.pk

    sent_at = datetime(2026, 5, 4, 10, 0, 0, 250_000, tzinfo=UTC)
    finish(tenant_a, item1, "sent", at=sent_at)
    item2 = items(tenant_a, source_id=second.pk)[0]
    # Due its delay after the send (rounded up to the second: planned in groups).
    assert item2.not_before == datetime(2026, 5, 4, 12, 0, 1, tzinfo=UTC)
    assert item2.state == "pending" and item2.lane == sequence.pk
    [enrolment] = enrolments(tenant_a, sequence)
    assert (enrolment.current_step_id, enrolment.current_item_id) == (second.pk, item2.pk)

    # A repeated report of the first item plans nothing more.
    finish(tenant_a, item1, "sent", at=sent_at)
    assert len(items(tenant_a)) == 2

    finish(tenant_a, item2, "sent")
    [enrolment] = enrolments(tenant_a, sequence)
    assert enrolment.state == "completed" and enrolment.ended_at is not None
    assert enrolment.exit_reason == ""
    with workspace_context(tenant_a.workspace.pk):
        assert StepRun.objects.filter(enrolment=enrolment).count() == 2


def test_failed_and_skipped_steps_do_not_stop_the_sequence(tenant_a: Tenant) -> None:
    sequence = make_sequence(tenant_a, steps=[{"text": "one"}, {"text": "two"}, {"text": "three"}])
    ann = contact(tenant_a, "15550001011")
    _enrol(tenant_a, sequence, ann)
    finish(tenant_a, items(tenant_a)[0], "failed")
    finish(tenant_a, items(tenant_a)[1], "skipped")
    assert [i.state for i in items(tenant_a)] == ["failed", "skipped", "pending"]


def test_the_next_step_waits_for_its_sending_window(tenant_a: Tenant) -> None:
    with workspace_context(tenant_a.workspace.pk):
        tenant_a.workspace.timezone = "America/New_York"
        tenant_a.workspace.save(update_fields=["timezone"])
    sequence = make_sequence(
        tenant_a,
        steps=[
            {"text": "one"},
            {
                "text": "two",
                "delay_amount": 1,
                "delay_unit": "days",
                "window_days": [0, 1, 2, 3, 4],
                "window_start": datetime(2000, 1, 1, 9, 0).time(),
                "window_end": datetime(2000, 1, 1, 17, 0).time(),
            },
        ],
    )
    ann = contact(tenant_a, "15550001021")
    _enrol(tenant_a, sequence, ann)
    # Sent Friday 2026-03-06 12:00 EST; a day later is Saturday: Monday 09:00 EDT.
    finish(tenant_a, items(tenant_a)[0], at=datetime(2026, 3, 6, 17, 0, tzinfo=UTC))
    assert items(tenant_a)[1].not_before == datetime(2026, 3, 9, 13, 0, tzinfo=UTC)


def _inbound(
    tenant: Tenant, channel_id: int, wa_id: str, body: str, wamid: str, ahead: int = 2
) -> None:
    """A message through the webhook and ingest; Meta stamps it in whole seconds,
    so one sent "now" may carry a stamp before an enrolment made this second."""
    with workspace_context(tenant.workspace.pk):
        from parley.whatsapp.models import Channel

        channel = Channel.objects.get(pk=channel_id)
    payload = text_webhook(
        channel.phone_number_id,
        wamid=wamid,
        wa_id=wa_id,
        body=body,
        sent_at=int(time.time()) + ahead,
    )
    Client().post(
        f"/webhooks/whatsapp/{channel.webhook_key}",
        payload,
        content_type="application/json",
        headers={"X-Hub-Signature-256": sign(payload, "app-secret-123")},
    )
    with workspace_context(tenant.workspace.pk):
        ids = list(WebhookEvent.objects.filter(state="received").values_list("id", flat=True))
    for event_id in ids:
        process_webhook.func(workspace_id=tenant.workspace.pk, event_id=event_id)


def test_exits_end_the_enrolment_and_cancel_its_waiting_step(tenant_a: Tenant) -> None:
    trial, customer = tag(tenant_a, "trial"), tag(tenant_a, "customer")
    sequence = make_sequence(
        tenant_a,
        steps=[{"text": "one", "delay_amount": 1, "delay_unit": "days"}],
        exit_tag_id=trial.pk,
        goal_tag_id=customer.pk,
    )
    replier = contact(tenant_a, "15550001031")
    untagged = contact(tenant_a, "15550001032")
    quitter = contact(tenant_a, "15550001033")
    buyer = contact(tenant_a, "15550001034")
    stays = contact(tenant_a, "15550001035")
    actor = owner(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        do_tag_contacts(actor=actor, tag=trial, contact_ids=[untagged.pk, stays.pk], add=True)
    _enrol(tenant_a, sequence, replier, untagged, quitter, buyer, stays)
    assert len(items(tenant_a, state="pending")) == 5

    _inbound(tenant_a, sequence.channel_id, replier.wa_id, "thanks!", "wamid.r1")
    with workspace_context(tenant_a.workspace.pk):
        do_tag_contacts(actor=actor, tag=trial, contact_ids=[untagged.pk], add=False)
        do_set_consent(actor=actor, contact=quitter, consent="opted_out")
        do_tag_contacts(actor=actor, tag=customer, contact_ids=[buyer.pk], add=True)
    run_drip_jobs()

    ended = {e.contact_id: (e.state, e.exit_reason) for e in enrolments(tenant_a, sequence)}
    assert ended == {
        replier.pk: ("exited", "replied"),
        untagged.pk: ("exited", "tag_removed"),
        quitter.pk: ("exited", "opted_out"),
        buyer.pk: ("exited", "goal_reached"),
        stays.pk: ("active", ""),
    }
    states = {i.contact_id: i.state for i in items(tenant_a)}
    assert states == {
        replier.pk: "cancelled",
        untagged.pk: "cancelled",
        quitter.pk: "cancelled",
        buyer.pk: "cancelled",
        stays.pk: "pending",
    }


def test_a_goal_segment_reached_through_a_tag_ends_the_enrolment(tenant_a: Tenant) -> None:
    paid = tag(tenant_a, "paid")
    with workspace_context(tenant_a.workspace.pk):
        goal = Segment.objects.create(
            workspace=tenant_a.workspace,
            name="Paying",
            definition={"conditions": [{"field": "tags", "op": "has_any", "value": [paid.pk]}]},
        )
    sequence = make_sequence(
        tenant_a,
        steps=[{"text": "one", "delay_amount": 1, "delay_unit": "days"}],
        goal_segment_id=goal.pk,
    )
    ann, bob = contact(tenant_a, "15550001036"), contact(tenant_a, "15550001037")
    _enrol(tenant_a, sequence, ann, bob)
    with workspace_context(tenant_a.workspace.pk):
        do_tag_contacts(actor=owner(tenant_a), tag=paid, contact_ids=[ann.pk], add=True)
    run_drip_jobs()
    reasons = {e.contact_id: (e.state, e.exit_reason) for e in enrolments(tenant_a, sequence)}
    assert reasons == {ann.pk: ("exited", "goal_reached"), bob.pk: ("active", "")}
    assert {i.contact_id: i.state for i in items(tenant_a)} == {
        ann.pk: "cancelled",
        bob.pk: "pending",
    }


def test_a_keyword_message_does_not_count_as_a_reply_to_the_enrolment_it_starts(
    tenant_a: Tenant,
) -> None:
    channel = make_channel(tenant_a)
    sequence = make_sequence(tenant_a, channel=channel, trigger="keyword", keywords=["join"])
    _inbound(tenant_a, channel.pk, "15550001041", "join", "wamid.j1", ahead=0)
    run_drip_jobs()
    [enrolment] = enrolments(tenant_a, sequence)
    assert enrolment.state == "active"
    # Its step's precheck agrees: the message came before the enrolment.
    assert check(tenant_a, items(tenant_a)[0]) == {}


def test_deactivate_holds_and_reactivate_releases_without_a_burst(tenant_a: Tenant) -> None:
    sequence = make_sequence(
        tenant_a,
        steps=[
            {"text": "one", "delay_amount": 1, "delay_unit": "hours"},
            {"text": "two", "delay_amount": 1, "delay_unit": "days"},
            {"text": "three", "delay_amount": 1, "delay_unit": "days"},
        ],
    )
    first, second, _third = steps_of(tenant_a, sequence)
    ann, bob = contact(tenant_a, "15550001051"), contact(tenant_a, "15550001052")
    _enrol(tenant_a, sequence, ann, bob)
    actor = owner(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        actions.do_deactivate(actor=actor, sequence=sequence)
    assert [i.state for i in items(tenant_a)] == ["held", "held"]

    # Deactivated, nobody new is enrolled; a step in flight when it paused
    # finishes, and the one after it is planned held.
    cat = contact(tenant_a, "15550001053")
    with workspace_context(tenant_a.workspace.pk), pytest.raises(ActionError):
        actions.do_enrol(actor=actor, sequence=sequence, contact_ids=[cat.pk])
    bob_item = items(tenant_a, contact_id=bob.pk)[0]
    finish(tenant_a, bob_item, "sent", at=timezone.now() - timedelta(days=5))
    assert items(tenant_a, contact_id=bob.pk, source_id=second.pk)[0].state == "held"

    # A week passes: everything held is long overdue.
    long_ago = timezone.now() - timedelta(days=7)
    with workspace_context(tenant_a.workspace.pk):
        OutboundItem.objects.filter(state="held").update(not_before=long_ago)
        before = timezone.now()
        actions.do_activate(actor=actor, sequence=sequence)
    waiting = items(tenant_a, state="pending")
    # One item per contact, each due now (not in the past), none of the later steps.
    assert sorted((i.contact_id, i.source_id) for i in waiting) == [
        (ann.pk, first.pk),
        (bob.pk, second.pk),
    ]
    assert all(i.not_before >= before for i in waiting)
    assert all(i.not_before <= timezone.now() for i in waiting)
    # The step after keeps its full delay from when this one goes out.
    sent = finish(tenant_a, items(tenant_a, contact_id=ann.pk, state="pending")[0])
    nxt = items(tenant_a, contact_id=ann.pk, source_id=second.pk)[0]
    assert nxt.state == "pending"
    assert nxt.not_before >= sent + timedelta(days=1) - timedelta(seconds=1)


def test_precheck_skips_a_step_whose_condition_fails_and_goes_on(tenant_a: Tenant) -> None:
    vip = tag(tenant_a, "vip")
    sequence = make_sequence(
        tenant_a,
        steps=[
            {"text": "only for VIPs", "condition": "has_tag", "condition_tag_id": vip.pk},
            {"text": "everyone"},
        ],
    )
    ann, bob = contact(tenant_a, "15550001061"), contact(tenant_a, "15550001062")
    with workspace_context(tenant_a.workspace.pk):
        do_tag_contacts(actor=owner(tenant_a), tag=vip, contact_ids=[ann.pk], add=True)
    _enrol(tenant_a, sequence, ann, bob)
    ann_item = items(tenant_a, contact_id=ann.pk)[0]
    bob_item = items(tenant_a, contact_id=bob.pk)[0]
    skip = check(tenant_a, ann_item, bob_item)
    assert skip == {bob_item.pk: "Skipped: the contact does not have the step's tag."}
    assert {e.state for e in enrolments(tenant_a, sequence)} == {"active"}
    # The dispatcher records the skip and tells drips: Bob goes on to step 2.
    finish(tenant_a, bob_item, "skipped")
    assert [i.state for i in items(tenant_a, contact_id=bob.pk)] == ["skipped", "pending"]


def test_precheck_ends_enrolments_that_replied_opted_out_or_reached_the_goal(
    tenant_a: Tenant,
) -> None:
    with workspace_context(tenant_a.workspace.pk):
        goal = Segment.objects.create(
            workspace=tenant_a.workspace,
            name="Bought",
            definition={"conditions": [{"field": "email", "op": "contains", "value": "@paid"}]},
        )
    sequence = make_sequence(tenant_a, steps=TWO_STEPS, goal_segment_id=goal.pk)
    wrote = contact(tenant_a, "15550001071")
    out = contact(tenant_a, "15550001072")
    paid = contact(tenant_a, "15550001073")
    fine = contact(tenant_a, "15550001074")
    _enrol(tenant_a, sequence, wrote, out, paid, fine)
    with workspace_context(tenant_a.workspace.pk):
        # Changes made without events (an import, a direct edit): the precheck catches them.
        Contact.objects.filter(pk=wrote.pk).update(last_inbound_at=timezone.now())
        Contact.objects.filter(pk=out.pk).update(consent="opted_out")
        Contact.objects.filter(pk=paid.pk).update(email="x@paid.test")
    claimed = items(tenant_a)
    skip = check(tenant_a, *claimed)
    by_contact = {i.contact_id: skip.get(i.pk) for i in claimed}
    assert by_contact == {
        wrote.pk: "The contact replied; they left the sequence.",
        out.pk: "The contact opted out; they left the sequence.",
        paid.pk: "The contact reached the sequence's goal; they left it.",
        fine.pk: None,
    }
    reasons = {e.contact_id: e.exit_reason for e in enrolments(tenant_a, sequence)}
    assert reasons == {
        wrote.pk: "replied",
        out.pk: "opted_out",
        paid.pk: "goal_reached",
        fine.pk: "",
    }


def test_precheck_skips_the_item_of_an_enrolment_that_ended(tenant_a: Tenant) -> None:
    sequence = make_sequence(tenant_a)
    ann = contact(tenant_a, "15550001081")
    _enrol(tenant_a, sequence, ann)
    [item] = items(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        # Claimed by the dispatcher just before the removal (too late to cancel).
        OutboundItem.objects.filter(pk=item.pk).update(state="sending")
        actions.do_remove_enrolment(
            actor=owner(tenant_a), enrolment=enrolments(tenant_a, sequence)[0]
        )
    assert check(tenant_a, item) == {item.pk: "The contact is no longer in this drip sequence."}
    finish(tenant_a, item, "skipped")
    assert len(items(tenant_a)) == 1


def test_deleting_a_step_moves_waiting_contacts_on(tenant_a: Tenant) -> None:
    sequence = make_sequence(tenant_a, steps=[{"text": "one"}, {"text": "two"}, {"text": "three"}])
    first, second, third = steps_of(tenant_a, sequence)
    second_id = second.pk
    ann = contact(tenant_a, "15550001091")
    _enrol(tenant_a, sequence, ann)
    finish(tenant_a, items(tenant_a)[0])
    with workspace_context(tenant_a.workspace.pk):
        actions.do_delete_step(actor=owner(tenant_a), step=second)
    assert [(i.source_id, i.state) for i in items(tenant_a)] == [
        (first.pk, "sent"),
        (second_id, "cancelled"),
        (third.pk, "pending"),
    ]
    assert [s.position for s in steps_of(tenant_a, sequence)] == [1, 2]
    # The deleted step's run stays in the log, without its step.
    with workspace_context(tenant_a.workspace.pk):
        assert StepRun.objects.filter(sequence=sequence, step__isnull=True).count() == 1


def test_a_step_finished_while_drips_was_not_told_is_picked_up(tenant_a: Tenant) -> None:
    sequence = make_sequence(tenant_a, steps=TWO_STEPS)
    ann = contact(tenant_a, "15550001101")
    _enrol(tenant_a, sequence, ann)
    [item] = items(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        OutboundItem.objects.filter(pk=item.pk).update(
            state="sent", finished_at=timezone.now() - timedelta(minutes=10)
        )
    assert advance_stranded() == 1
    assert [i.state for i in items(tenant_a)] == ["sent", "pending"]
    assert advance_stranded() == 0


def test_merging_contacts_keeps_one_enrolment_per_sequence(tenant_a: Tenant) -> None:
    sequence = make_sequence(tenant_a)
    other = make_sequence(tenant_a, name="Other")
    keep, dup = contact(tenant_a, "15550001111"), contact(tenant_a, "15550001112")
    _enrol(tenant_a, sequence, keep, dup)
    _enrol(tenant_a, other, dup)
    with workspace_context(tenant_a.workspace.pk):
        do_merge_contacts(actor=owner(tenant_a), survivor=keep, duplicate=dup)
        rows = sorted(
            Enrolment.objects.values_list("sequence_id", "contact_id", "state", "exit_reason")
        )
    assert rows == sorted(
        [
            (sequence.pk, keep.pk, "active", ""),
            (sequence.pk, keep.pk, "exited", "removed"),
            (other.pk, keep.pk, "active", ""),
        ]
    )
