"""Every fetch of broadcasts and their recipients, scoped to the actor's workspace."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from parley.broadcasts.models import Broadcast, Status
from parley.core.errors import ActionError
from parley.outbox.models import OutboundItem
from parley.outbox.stats import Progress, progress
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap

SOURCE = "broadcast"
State = OutboundItem.State
# Recipient filters: the outbox's states, and what Meta reported after "sent".
RECIPIENT_FILTERS: dict[str, str] = {
    "queued": "Queued",
    "paused": "Paused",
    "sending": "Sending",
    "sent": "Sent",
    "delivered": "Delivered",
    "read": "Read",
    "failed": "Failed",
    "skipped": "Skipped",
    "cancelled": "Cancelled",
}


def access_broadcast(actor: Actor, broadcast_id: int) -> Broadcast:
    actor.require(Cap.CAMPAIGNS_READ)
    broadcast = (
        Broadcast.objects.select_related("channel", "template", "segment", "created_by")
        .filter(workspace=actor.workspace, id=broadcast_id)
        .first()
    )
    if broadcast is None:
        raise Http404("No such broadcast.")
    return broadcast


def broadcast_list(actor: Actor, *, status: str | None = None) -> QuerySet[Broadcast]:
    actor.require(Cap.CAMPAIGNS_READ)
    qs = Broadcast.objects.filter(workspace=actor.workspace).select_related(
        "channel", "template", "segment"
    )
    if status:
        if status not in Status.values:
            raise ActionError(
                f"status is one of {', '.join(Status.values)}.",
                code="invalid_status",
                field="status",
            )
        qs = qs.filter(status=status)
    return qs


def progress_of(actor: Actor, broadcasts: list[Broadcast]) -> dict[int, Progress]:
    """Progress of several broadcasts in one query (drafts have none)."""
    actor.require(Cap.CAMPAIGNS_READ)
    started = [b.pk for b in broadcasts if not b.is_draft]
    out = progress(workspace_id=actor.workspace.pk, source=SOURCE, source_ids=started)
    for b in broadcasts:
        out.setdefault(b.pk, Progress())
    return out


def state_q(state: str) -> Q:
    if state == "queued":
        return Q(state=State.PENDING)
    if state == "paused":
        return Q(state=State.HELD)
    if state == "sent":
        return Q(state=State.SENT) & ~Q(message__status="failed")
    if state == "delivered":
        return Q(state=State.SENT, message__status__in=["delivered", "read"])
    if state == "read":
        return Q(state=State.SENT, message__status="read")
    if state == "failed":
        # As the progress counts it: refused before sending, or undeliverable after.
        return Q(state=State.FAILED) | Q(state=State.SENT, message__status="failed")
    if state in (State.SENDING, State.SKIPPED, State.CANCELLED):
        return Q(state=state)
    raise ActionError(
        f"state is one of {', '.join(RECIPIENT_FILTERS)}.", code="invalid_state", field="state"
    )


def recipients(
    actor: Actor, broadcast: Broadcast, *, state: str | None = None
) -> QuerySet[OutboundItem]:
    """The broadcast's items with their contact and message, in id order."""
    actor.require(Cap.CAMPAIGNS_READ)
    qs = OutboundItem.objects.filter(
        workspace=actor.workspace, source=SOURCE, source_id=broadcast.pk
    ).select_related("contact", "message")
    if state:
        qs = qs.filter(state_q(state))
    return qs.order_by("id")


@dataclass(frozen=True)
class Page:
    items: list[OutboundItem]
    next_after: int | None


def recipient_page(
    actor: Actor,
    broadcast: Broadcast,
    *,
    state: str | None = None,
    after: int | None = None,
    limit: int = 50,
) -> Page:
    """One page by id (keyset): as fast at row 90,000 as at row 1."""
    qs = recipients(actor, broadcast, state=state)
    if after:
        qs = qs.filter(id__gt=after)
    rows = list(qs[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].pk if more and rows else None)
