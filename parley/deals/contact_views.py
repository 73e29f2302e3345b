"""What deals add to a contact's page: a panel of their deals and timeline entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Case, IntegerField, Value, When
from django.urls import reverse

from parley.crm.models import Contact
from parley.crm.panels import ContactPanel
from parley.crm.timeline import TimelineEntry
from parley.deals.history import describe
from parley.deals.models import Deal, DealEvent, DealStatus
from parley.tenancy.actor import Actor
from parley.tenancy.models import Workspace
from parley.tenancy.roles import Cap

PANEL_LIMIT = 20


def panel_context(actor: Actor, contact: Contact) -> dict[str, Any]:
    deals = list(
        Deal.objects.filter(workspace=actor.workspace, contact=contact)
        .select_related("stage")
        .annotate(
            closed=Case(
                When(status=DealStatus.OPEN, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("closed", "-updated_at")[:PANEL_LIMIT]
    )
    return {"deals": deals, "can_write_deals": actor.can(Cap.CONTACTS_WRITE)}


PANEL = ContactPanel(
    name="deals", order=30, template="deals/_contact_panel.html", context=panel_context
)


def timeline_source(
    *, workspace_id: int, contact_id: int, before: datetime | None = None, limit: int = 50
) -> list[TimelineEntry]:
    qs = DealEvent.objects.filter(workspace_id=workspace_id, deal__contact_id=contact_id)
    if before is not None:
        qs = qs.filter(at__lt=before)
    events = list(qs.select_related("deal", "actor").order_by("-at", "-id")[:limit])
    if not events:
        return []
    slug = Workspace.objects.values_list("slug", flat=True).get(pk=workspace_id)
    return [
        TimelineEntry(
            at=e.at,
            kind="deal",
            title=f"Deal {e.deal.title}: {describe(e)}",
            actor=e.actor.display_name if e.actor is not None else "",
            url=reverse("deals_detail", args=[slug, e.deal_id]),
        )
        for e in events
    ]
