"""The checks before a broadcast starts: the workspace's monthly message
quota and the channel's messaging tier. Both refuse with the numbers, so
the person knows how much to cut."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from parley.broadcasts.models import Broadcast
from parley.core.errors import ActionError
from parley.inbox.quota import usage
from parley.outbox.models import OutboundItem, TierContact

SOURCE = "broadcast"
WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Room:
    """What remains, and of what."""

    monthly_quota: int
    monthly_remaining: int
    tier_limit: int | None
    tier_remaining: int | None


def _n(value: int) -> str:
    return f"{value:,}"


def _contacts(n: int) -> str:
    return f"{_n(n)} contact{'s' if n != 1 else ''}"


def monthly_remaining(broadcast: Broadcast) -> int:
    """This month's quota minus what was sent, minus what is already queued
    (by any broadcast, drip or scheduled message, this one's own excepted):
    queued items reserve their quota only when they go out, so without
    them two broadcasts started together would both pass."""
    workspace = broadcast.workspace
    queued = (
        OutboundItem.objects.filter(
            workspace_id=workspace.pk,
            state__in=[OutboundItem.State.PENDING, OutboundItem.State.HELD],
        )
        .exclude(source=SOURCE, source_id=broadcast.pk)
        .count()
    )
    return max(0, workspace.monthly_message_quota - usage(workspace) - queued)


def check_monthly(broadcast: Broadcast, audience: int) -> None:
    remaining = monthly_remaining(broadcast)
    if audience > remaining:
        quota = broadcast.workspace.monthly_message_quota
        raise ActionError(
            f"This audience has {_contacts(audience)}, but the workspace's monthly quota of "
            f"{_n(quota)} messages has {_n(remaining)} left (messages already queued count). "
            "Reduce the audience, or ask an owner to change the plan.",
            code="quota_exceeded",
        )


def tier_used(channel_id: int, workspace_id: int, since: datetime) -> int:
    """Distinct customers the channel opened a business-initiated
    conversation with since ``since`` (one TierContact row per contact)."""
    return TierContact.objects.filter(
        workspace_id=workspace_id, channel_id=channel_id, last_at__gte=since
    ).count()


def tier_newcomers(broadcast: Broadcast, since: datetime) -> int:
    """The broadcast's planned recipients that would open a new
    business-initiated conversation: not already counted in the tier's last
    24 hours, and not inside a customer-service window (no message from
    them in the last 24 hours). Counted over the planned items, so every
    kind of audience is measured the same way."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*)
                 FROM outbox_outbounditem i
                 JOIN crm_contact c ON c.id = i.contact_id AND c.workspace_id = i.workspace_id
                WHERE i.workspace_id = %s AND i.source = %s AND i.source_id = %s
                  AND (c.last_inbound_at IS NULL OR c.last_inbound_at < %s)
                  AND NOT EXISTS (
                      SELECT 1 FROM outbox_tiercontact t
                       WHERE t.workspace_id = i.workspace_id AND t.channel_id = %s
                         AND t.contact_id = i.contact_id AND t.last_at >= %s)""",
            [
                broadcast.workspace_id,
                SOURCE,
                broadcast.pk,
                since,
                broadcast.channel_id,
                since,
            ],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def check_tier(broadcast: Broadcast, audience: int) -> None:
    """Refuse when the recipients who need a new conversation outnumber
    what the channel's messaging tier has left for the next 24 hours.

    Counted: distinct contacts in TierContact for this channel with last_at
    in the last 24 hours (already used), against the planned recipients
    neither counted there nor inside their 24-hour window. Not counted:
    other sources' items still queued on the channel (the dispatcher
    enforces the tier at send time anyway, by waiting), and, for a
    broadcast scheduled later, how the window will have moved by then."""
    limit = broadcast.channel.tier_limit
    if limit is None:
        return
    since = timezone.now() - WINDOW
    remaining = max(0, limit - tier_used(broadcast.channel_id, broadcast.workspace_id, since))
    needed = tier_newcomers(broadcast, since)
    if needed > remaining:
        already = audience - needed
        detail = f" ({_n(needed)} of them would start a new conversation)" if already > 0 else ""
        raise ActionError(
            f"This audience has {_contacts(audience)}{detail}, but the channel's messaging "
            f"tier allows {_n(limit)} new customers per 24 hours and {_n(remaining)} remain. "
            "Reduce the audience or wait.",
            code="tier_exceeded",
        )


def room(broadcast: Broadcast) -> Room:
    """What remains now, for the page that starts a broadcast."""
    limit = broadcast.channel.tier_limit
    tier_remaining = None
    if limit is not None:
        since = timezone.now() - WINDOW
        tier_remaining = max(
            0, limit - tier_used(broadcast.channel_id, broadcast.workspace_id, since)
        )
    return Room(
        monthly_quota=broadcast.workspace.monthly_message_quota,
        monthly_remaining=monthly_remaining(broadcast),
        tier_limit=limit,
        tier_remaining=tier_remaining,
    )
