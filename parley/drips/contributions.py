"""What drips add to other apps: the contact page's panel (the contact's
sequences, and enrolling them by hand) and how enrolments follow a merge."""

from __future__ import annotations

from typing import Any

from parley.crm.models import Contact
from parley.crm.panels import ContactPanel
from parley.drips import engine
from parley.drips.models import Enrolment, Sequence
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap

PANEL_LIMIT = 10


def contact_panel_context(actor: Actor, contact: Contact) -> dict[str, Any]:
    if not actor.can(Cap.CAMPAIGNS_READ):
        return {"drips_visible": False}
    enrolments = list(
        Enrolment.objects.filter(workspace=actor.workspace, contact=contact)
        .select_related("sequence", "current_step")
        .order_by("-enrolled_at", "-id")[:PANEL_LIMIT]
    )
    can_manage = actor.can(Cap.CAMPAIGNS_MANAGE)
    in_now = {e.sequence_id for e in enrolments if e.state == Enrolment.State.ACTIVE}
    choices = (
        [
            s
            for s in Sequence.objects.filter(workspace=actor.workspace, active=True).order_by(
                "name"
            )
            if s.pk not in in_now
        ]
        if can_manage
        else []
    )
    return {
        "drips_visible": True,
        "drip_enrolments": enrolments,
        "drip_choices": choices,
        "can_manage_drips": can_manage,
    }


CONTACT_PANEL = ContactPanel(
    name="drips", order=40, template="drips/_contact_panel.html", context=contact_panel_context
)


def merge_enrolments(*, workspace_id: int, loser_id: int, survivor_id: int) -> int:
    """The duplicate's enrolments move to the survivor; where both are in
    the same sequence, the survivor's enrolment goes on and the duplicate's ends."""
    both = Enrolment.objects.filter(
        workspace_id=workspace_id, contact_id=survivor_id, state=Enrolment.State.ACTIVE
    ).values("sequence_id")
    engine.end(
        workspace_id=workspace_id,
        enrolments=Enrolment.objects.filter(contact_id=loser_id, sequence_id__in=both),
        state=Enrolment.State.EXITED,
        reason=Enrolment.Exit.REMOVED,
    )
    return int(
        Enrolment.objects.filter(workspace_id=workspace_id, contact_id=loser_id).update(
            contact_id=survivor_id
        )
    )
