"""Enrolment: one test per trigger kind, through the real call sites (crm
actions, webhook ingest, the pages, the API, the segment scheduler)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from parley.core.errors import ActionError
from parley.core.tenant import workspace_context
from parley.crm.actions import do_create_contact, do_set_consent, do_tag_contacts
from parley.crm.models import Contact
from parley.drips import actions
from parley.drips.models import StepRun
from parley.drips.tasks import check_segment_entries
from parley.drips.tests.helpers import (
    contact,
    enrolments,
    items,
    make_sequence,
    owner,
    queued_drip_jobs,
    run_drip_jobs,
    steps_of,
    tag,
)
from parley.inbox.tasks import process_webhook
from parley.segments.models import Segment
from parley.whatsapp.models import Channel, WebhookEvent
from parley.whatsapp.samples import text_webhook
from parley.whatsapp.signatures import sign
from tests.factories import Tenant, make_channel

pytestmark = pytest.mark.django_db


def _inbound(channel: Channel, wa_id: str, body: str, wamid: str) -> None:
    """A customer's message through the real webhook and ingest."""
    payload = text_webhook(
        channel.phone_number_id,
        wamid=wamid,
        wa_id=wa_id,
        body=body,
        sent_at=int(time.time()) + 1,
    )
    response = Client().post(
        f"/webhooks/whatsapp/{channel.webhook_key}",
        payload,
        content_type="application/json",
        headers={"X-Hub-Signature-256": sign(payload, "app-secret-123")},
    )
    assert response.status_code == 200
    with workspace_context(channel.workspace_id):
        ids = list(WebhookEvent.objects.filter(state="received").values_list("id", flat=True))
    for event_id in ids:
        process_webhook.func(workspace_id=channel.workspace_id, event_id=event_id)


def test_tag_added_enrols_and_plans_the_first_step(tenant_a: Tenant) -> None:
    trial = tag(tenant_a, "trial")
    sequence = make_sequence(
        tenant_a,
        trigger="tag_added",
        trigger_tag_id=trial.pk,
        steps=[{"text": "Welcome", "delay_amount": 10, "delay_unit": "minutes"}],
    )
    ann = contact(tenant_a, "15550000001")
    other = tag(tenant_a, "other")
    before = timezone.now()
    with workspace_context(tenant_a.workspace.pk):
        do_tag_contacts(actor=owner(tenant_a), tag=other, contact_ids=[ann.pk], add=True)
    assert queued_drip_jobs() == 0  # nobody cares about "other": no job at all
    with workspace_context(tenant_a.workspace.pk):
        do_tag_contacts(actor=owner(tenant_a), tag=trial, contact_ids=[ann.pk], add=True)
    assert run_drip_jobs() == 1

    [enrolment] = enrolments(tenant_a, sequence)
    [item] = items(tenant_a)
    [step] = steps_of(tenant_a, sequence)
    assert (enrolment.contact_id, enrolment.state, enrolment.source) == (
        ann.pk,
        "active",
        "tag_added",
    )
    assert (item.source_id, item.lane, item.state, item.contact_id) == (
        step.pk,
        sequence.pk,
        "pending",
        ann.pk,
    )
    assert item.channel_id == sequence.channel_id and item.content_id == step.content_id
    assert (
        before + timedelta(minutes=10)
        <= item.not_before
        <= timezone.now() + timedelta(minutes=10, seconds=1)
    )
    assert enrolment.current_item_id == item.pk and enrolment.current_step_id == step.pk
    with workspace_context(tenant_a.workspace.pk):
        assert StepRun.objects.filter(enrolment=enrolment, item=item, step=step).exists()


def test_contact_created_enrols_from_the_crm_and_from_a_first_message(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    sequence = make_sequence(tenant_a, channel=channel, trigger="contact_created")
    with workspace_context(tenant_a.workspace.pk):
        made = do_create_contact(actor=owner(tenant_a), phone="+14155550123", name="Bo")
    run_drip_jobs()
    # A stranger's first message creates the contact in ingest: enrolled too.
    _inbound(channel, "15557654321", "hi, is anyone there?", "wamid.new1")
    run_drip_jobs()
    with workspace_context(tenant_a.workspace.pk):
        stranger = Contact.objects.get(wa_id="15557654321")
    enrolled = {e.contact_id: e.source for e in enrolments(tenant_a, sequence)}
    assert enrolled == {made.pk: "contact_created", stranger.pk: "contact_created"}
    assert len(items(tenant_a)) == 2


def test_keyword_enrols_on_the_exact_word_in_any_case(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    sequence = make_sequence(
        tenant_a, channel=channel, trigger="keyword", keywords=["Join", "start trial"]
    )
    _inbound(channel, "15550000011", "  JOIN ", "wamid.k1")
    _inbound(channel, "15550000012", "start   Trial", "wamid.k2")
    _inbound(channel, "15550000013", "I want to join", "wamid.k3")
    run_drip_jobs()
    with workspace_context(tenant_a.workspace.pk):
        names = set(
            Contact.objects.filter(
                pk__in=[e.contact_id for e in enrolments(tenant_a, sequence)]
            ).values_list("wa_id", flat=True)
        )
        assert sequence.keywords == ["join", "start trial"]
    assert names == {"15550000011", "15550000012"}


def test_ingest_without_interested_sequences_enqueues_nothing(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    make_sequence(tenant_a, channel=channel, trigger="manual", exit_on_reply=False)
    _inbound(channel, "15550000021", "join", "wamid.n1")
    assert queued_drip_jobs() == 0


def test_manual_enrolment_from_the_subscribers_page_and_the_contact_page(
    tenant_a: Tenant, login: object
) -> None:
    sequence = make_sequence(tenant_a, trigger="manual")
    ann = contact(tenant_a, "15550000031")
    bob = contact(tenant_a, "15550000032")
    out = contact(tenant_a, "15550000033", consent="opted_out")
    client = login(tenant_a.admin)  # type: ignore[operator]
    slug = tenant_a.workspace.slug
    response = client.post(
        f"/w/{slug}/drips/{sequence.pk}/enrol/", {"contact_ids": [ann.pk, out.pk, 999999]}
    )
    assert response.status_code == 302
    page = client.get(f"/w/{slug}/drips/{sequence.pk}/subscribers/").content.decode()
    assert "1 enrolled, 1 opted out (not enrolled), 1 not found." in page
    response = client.post(f"/w/{slug}/drips/contact/{bob.pk}/enrol/", {"sequence_id": sequence.pk})
    assert response.status_code == 302
    assert {e.contact_id: e.source for e in enrolments(tenant_a, sequence)} == {
        ann.pk: "manual",
        bob.pk: "manual",
    }
    assert {e.enrolled_by_id for e in enrolments(tenant_a, sequence)} == {tenant_a.admin.pk}


def test_api_enrolment(tenant_a: Tenant) -> None:
    sequence = make_sequence(tenant_a, trigger="api")
    ann = contact(tenant_a, "15550000041")
    client = Client(headers={"Authorization": f"Bearer {tenant_a.raw_token}"})
    url = f"/api/v1/drips/{sequence.pk}/enrolments"
    created = client.post(url, {"contact_id": ann.pk}, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["contact_id"], body["state"], body["source"]) == (ann.pk, "active", "api")
    assert body["steps"][0]["state"] == "queued"
    again = client.post(url, {"contact_id": ann.pk}, content_type="application/json")
    assert again.status_code == 409
    assert again.json()["code"] == "already_enrolled"


def _segment(tenant: Tenant, email_contains: str) -> Segment:
    with workspace_context(tenant.workspace.pk):
        return Segment.objects.create(
            workspace=tenant.workspace,
            name=f"Email {email_contains}",
            definition={
                "conditions": [{"field": "email", "op": "contains", "value": email_contains}]
            },
        )


def test_segment_entered_enrols_only_contacts_entering_after_activation(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    early = contact(tenant_a, "15550000051", email="early@vip.test")
    later = contact(tenant_a, "15550000052", email="later@plain.test")
    segment = _segment(tenant_a, "@vip")
    sequence = make_sequence(tenant_a, trigger="segment_entered", trigger_segment_id=segment.pk)
    # The members at activation are the baseline.
    assert check_segment_entries() == 0
    assert enrolments(tenant_a, sequence) == []

    with workspace_context(tenant_a.workspace.pk):
        Contact.objects.filter(pk=later.pk).update(email="later@vip.test")
    # Another workspace's segment sequence is checked in its own workspace.
    other = contact(tenant_b, "15550000059", email="b@vip.test")
    other_segment = _segment(tenant_b, "@vip")
    other_seq = make_sequence(
        tenant_b, trigger="segment_entered", trigger_segment_id=other_segment.pk
    )
    with workspace_context(tenant_b.workspace.pk):
        Contact.objects.filter(pk=other.pk).update(email="b2@nothing.test")
    assert check_segment_entries() == 1
    assert [e.contact_id for e in enrolments(tenant_a, sequence)] == [later.pk]
    assert [e.source for e in enrolments(tenant_a, sequence)] == ["segment_entered"]
    assert enrolments(tenant_b, other_seq) == []
    assert check_segment_entries() == 0  # still in: not entered again

    # Leaving and coming back is entering again (once the first run ended).
    with workspace_context(tenant_a.workspace.pk):
        actions.do_remove_enrolment(
            actor=owner(tenant_a), enrolment=enrolments(tenant_a, sequence)[0]
        )
        Contact.objects.filter(pk=later.pk).update(email="later@plain.test")
    assert check_segment_entries() == 0
    with workspace_context(tenant_a.workspace.pk):
        Contact.objects.filter(pk=later.pk).update(email="later@vip.test")
    assert check_segment_entries() == 1
    assert [e.state for e in enrolments(tenant_a, sequence)] == ["exited", "active"]
    assert early.pk not in {e.contact_id for e in enrolments(tenant_a, sequence)}


def test_one_active_enrolment_per_contact_and_sequence(tenant_a: Tenant) -> None:
    sequence = make_sequence(tenant_a)
    ann = contact(tenant_a, "15550000061")
    actor = owner(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        first = actions.do_enrol(actor=actor, sequence=sequence, contact_ids=[ann.pk, ann.pk])
        second = actions.do_enrol(actor=actor, sequence=sequence, contact_ids=[ann.pk])
    assert (first.enrolled, second.enrolled, second.already) == (1, 0, 1)
    assert len(items(tenant_a)) == 1
    # After it ended, the contact may go through the sequence again.
    with workspace_context(tenant_a.workspace.pk):
        actions.do_remove_enrolment(actor=actor, enrolment=enrolments(tenant_a, sequence)[0])
        third = actions.do_enrol(actor=actor, sequence=sequence, contact_ids=[ann.pk])
    assert third.enrolled == 1
    assert [e.state for e in enrolments(tenant_a, sequence)] == ["exited", "active"]
    assert [i.state for i in items(tenant_a)] == ["cancelled", "pending"]


def test_inactive_sequences_and_opted_out_contacts_are_not_enrolled(tenant_a: Tenant) -> None:
    vip = tag(tenant_a, "vip")
    sequence = make_sequence(tenant_a, trigger="tag_added", trigger_tag_id=vip.pk, activate=False)
    ann = contact(tenant_a, "15550000071")
    out = contact(tenant_a, "15550000072")
    with workspace_context(tenant_a.workspace.pk):
        do_tag_contacts(actor=owner(tenant_a), tag=vip, contact_ids=[ann.pk], add=True)
        assert queued_drip_jobs() == 0
        actions.do_activate(actor=owner(tenant_a), sequence=sequence)
        do_set_consent(actor=owner(tenant_a), contact=out, consent="opted_out")
        do_tag_contacts(actor=owner(tenant_a), tag=vip, contact_ids=[out.pk], add=True)
    run_drip_jobs()
    assert enrolments(tenant_a, sequence) == []
    with workspace_context(tenant_a.workspace.pk), pytest.raises(ActionError):
        actions.do_enrol_contact(actor=owner(tenant_a), sequence=sequence, contact=out)
