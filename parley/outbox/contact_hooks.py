"""What the outbox needs when two contacts merge."""

from __future__ import annotations

from django.db.models import Max

from parley.outbox.models import TierContact


def merge_tier_contacts(*, workspace_id: int, loser_id: int, survivor_id: int) -> int:
    """One tier row per channel and contact: keep the latest of the two."""
    moved = 0
    for row in TierContact.objects.filter(workspace_id=workspace_id, contact_id=loser_id):
        latest = TierContact.objects.filter(
            workspace_id=workspace_id, channel_id=row.channel_id, contact_id=survivor_id
        ).aggregate(at=Max("last_at"))["at"]
        if latest is None:
            row.contact_id = survivor_id
            row.save(update_fields=["contact"])
        else:
            TierContact.objects.filter(
                workspace_id=workspace_id, channel_id=row.channel_id, contact_id=survivor_id
            ).update(last_at=max(latest, row.last_at))
            row.delete()
        moved += 1
    return moved
