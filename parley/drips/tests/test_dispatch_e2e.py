"""A drip run by the real outbox dispatcher against the Cloud API simulator:
the hooks are called by the dispatcher itself, not by the test."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.drips import actions
from parley.drips.tests.helpers import enrolments, items, owner
from parley.inbox.models import Conversation, Message
from parley.outbox.dispatch import dispatch
from parley.outbox.tests.helpers import MAPPING, approved_template, connect
from parley.whatsapp.models import Channel
from parley.whatsapp.simulator.server import SimulatorHandle
from tests.factories import Tenant, make_tenant

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def graph(sim: SimulatorHandle, settings: Any) -> SimulatorHandle:
    settings.WHATSAPP_GRAPH_URL = sim.graph_url
    settings.WHATSAPP_AMBIGUOUS_GRACE_SECONDS = 1
    return sim


def _drain(tenant: Tenant, channel: Channel) -> None:
    for _ in range(10):
        run = dispatch(workspace_id=tenant.workspace.pk, channel_id=channel.pk, slice_seconds=5)
        if not run.more:
            return


def test_the_dispatcher_sends_each_step_and_drips_plans_the_next(graph: SimulatorHandle) -> None:
    tenant = make_tenant("Dripper")
    channel = connect(tenant, graph)
    template = approved_template(tenant, graph, channel)
    actor = owner(tenant)
    with workspace_context(tenant.workspace.pk):
        sequence = actions.do_create_sequence(
            actor=actor,
            fields=actions.SequenceFields(name="Onboarding", channel_id=channel.pk),
        )
        actions.do_save_step(
            actor=actor,
            sequence=sequence,
            step=None,
            fields=actions.StepFields(template_id=template.pk, mapping=MAPPING),
        )
        actions.do_save_step(
            actor=actor,
            sequence=sequence,
            step=None,
            fields=actions.StepFields(text="Did it work for you?"),
        )
        actions.do_activate(actor=actor, sequence=sequence)
        ann = Contact.objects.create(workspace=tenant.workspace, wa_id="15557000001", name="Ann")
        # Bob wrote an hour ago: his window is open, so the text step reaches him.
        bob = Contact.objects.create(workspace=tenant.workspace, wa_id="15557000002", name="Bob")
        Conversation.objects.create(
            workspace=tenant.workspace,
            contact=bob,
            channel=channel,
            last_inbound_at=timezone.now() - timedelta(hours=1),
        )
        actions.do_enrol(actor=actor, sequence=sequence, contact_ids=[ann.pk, bob.pk])

    _drain(tenant, channel)  # step 1 goes out; on_finished plans step 2, due now
    _drain(tenant, channel)  # step 2

    by_contact = {(i.contact_id, i.source_id): (i.state, i.reason) for i in items(tenant)}
    first, second = sorted({sid for _c, sid in by_contact})
    assert by_contact[(ann.pk, first)][0] == "sent"
    assert by_contact[(bob.pk, first)][0] == "sent"
    assert by_contact[(bob.pk, second)][0] == "sent"
    # Ann never wrote: free text outside the window fails with the reason...
    state, reason = by_contact[(ann.pk, second)]
    assert state == "failed" and "24-hour window" in reason
    # ...and both enrolments are done (a failed step does not stop a sequence).
    assert {e.contact_id: e.state for e in enrolments(tenant, sequence)} == {
        ann.pk: "completed",
        bob.pk: "completed",
    }
    with workspace_context(tenant.workspace.pk):
        texts = list(
            Message.objects.filter(conversation__contact=bob, direction="out")
            .order_by("id")
            .values_list("text", flat=True)
        )
    assert texts[-1] == "Did it work for you?" and texts[0].startswith("Hello Bob")
    phone = graph.control.messages(channel.phone_number_id)
    assert len(phone) == 3
