"""Every fetch by id of scheduled messages, and their lists, scoped to the
actor's workspace."""

from __future__ import annotations

from django.db.models import Case, DateTimeField, F, IntegerField, Q, QuerySet, Value, When
from django.http import Http404

from parley.core.errors import ActionError
from parley.crm.models import Contact
from parley.inbox.models import Conversation
from parley.scheduled.models import STATES_OF_STATUS, ScheduledMessage, Status
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.whatsapp.access import access_channel
from parley.whatsapp.models import Channel

# The list page's filters: upcoming is what may still be edited or is going out.
FILTERS: dict[str, tuple[str, ...]] = {
    "upcoming": ("pending", "held", "sending"),
    "sent": ("sent",),
    "failed": ("failed", "skipped"),
    "cancelled": ("cancelled",),
}

RELATED = (
    "workspace",
    "contact",
    "channel",
    "item",
    "item__message",
    "content",
    "content__template",
    "content__fallback_template",
    "created_by",
)


def access_scheduled(actor: Actor, scheduled_id: int) -> ScheduledMessage:
    actor.require(Cap.CONVERSATIONS_READ)
    scheduled = (
        ScheduledMessage.objects.select_related(*RELATED)
        .filter(workspace=actor.workspace, id=scheduled_id)
        .first()
    )
    if scheduled is None:
        raise Http404("No such scheduled message.")
    return scheduled


def scheduled_list(
    actor: Actor,
    *,
    status: str | None = None,
    contact_id: int | None = None,
    channel_id: int | None = None,
) -> QuerySet[ScheduledMessage]:
    """Scheduled messages by status (one of Status, or a page filter:
    upcoming, sent, failed, cancelled) and contact."""
    actor.require(Cap.CONVERSATIONS_READ)
    qs = ScheduledMessage.objects.filter(workspace=actor.workspace)
    if status:
        if status in FILTERS:
            qs = qs.filter(item__state__in=FILTERS[status])
        elif status in STATES_OF_STATUS:
            qs = qs.filter(item__state__in=STATES_OF_STATUS[status])
        else:
            choices = sorted(set(FILTERS) | set(Status.values))
            raise ActionError(
                f"status is one of {', '.join(choices)}.", code="invalid_status", field="status"
            )
    if contact_id is not None:
        qs = qs.filter(contact_id=contact_id)
    if channel_id is not None:
        qs = qs.filter(channel_id=channel_id)
    return qs


def ordered_for_page(qs: QuerySet[ScheduledMessage], status: str) -> QuerySet[ScheduledMessage]:
    """Upcoming soonest first; what already happened newest first."""
    if status == "upcoming":
        return qs.order_by("send_at", "id")
    if status == "all":
        # Waiting ones first (soonest first), then the rest newest first.
        waiting = Q(item__state__in=FILTERS["upcoming"])
        return qs.annotate(
            _done=Case(When(waiting, then=Value(0)), default=Value(1), output_field=IntegerField()),
            _soon=Case(When(waiting, then=F("send_at")), output_field=DateTimeField()),
            _late=Case(When(~waiting, then=F("send_at")), output_field=DateTimeField()),
        ).order_by("_done", "_soon", F("_late").desc(nulls_last=True), "-id")
    return qs.order_by("-send_at", "-id")


def active_channels(actor: Actor) -> list[Channel]:
    return list(
        Channel.objects.filter(workspace=actor.workspace, status=Channel.Status.ACTIVE).order_by(
            "name", "id"
        )
    )


def channel_for(actor: Actor, contact: Contact, channel_id: int | None) -> Channel:
    """The named number; else the only active one; else the one the contact
    last talked to."""
    if channel_id is not None:
        return access_channel(actor, channel_id)
    channels = active_channels(actor)
    if len(channels) == 1:
        return channels[0]
    last = (
        Conversation.objects.filter(
            workspace=actor.workspace, contact=contact, channel__status=Channel.Status.ACTIVE
        )
        .order_by("-last_message_at")
        .values_list("channel_id", flat=True)
        .first()
    )
    if last is not None:
        return access_channel(actor, last)
    if not channels:
        raise ActionError(
            "Connect a WhatsApp number first (Channels).", code="no_channel", field="channel_id"
        )
    raise ActionError("Pick the number to send from.", code="required", field="channel_id")
