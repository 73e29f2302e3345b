"""Rows of this app in a workspace, for the outsider walk: {route parameter: value}."""

from __future__ import annotations

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.drips import actions
from parley.drips.models import Enrolment
from tests.factories import Tenant, actor_for, make_channel


def seed(tenant: Tenant) -> dict[str, str]:
    """An active sequence with one step and one enrolled contact."""
    channel = make_channel(tenant)
    actor = actor_for(tenant.workspace, tenant.owner)
    with workspace_context(tenant.workspace.pk):
        sequence = actions.do_create_sequence(
            actor=actor,
            fields=actions.SequenceFields(name="Outsider probe drip", channel_id=channel.pk),
        )
        step = actions.do_save_step(
            actor=actor, sequence=sequence, step=None, fields=actions.StepFields(text="Hello")
        )
        actions.do_activate(actor=actor, sequence=sequence)
        contact = Contact.objects.create(
            workspace=tenant.workspace, wa_id="15550007777", name="Drip Probe"
        )
        actions.do_enrol(actor=actor, sequence=sequence, contact_ids=[contact.pk])
        enrolment = Enrolment.objects.get(sequence=sequence, contact=contact)
    return {
        "sequence_id": str(sequence.pk),
        "step_id": str(step.pk),
        "enrolment_id": str(enrolment.pk),
    }
