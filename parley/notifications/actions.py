"""Every change to notifications. Other apps notify through do_notify only."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from parley.core.events import publish
from parley.notifications.models import Notification
from parley.tenancy.actor import Actor


def do_notify(
    *,
    workspace_id: int,
    user_id: int,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    dedupe_key: str = "",
) -> bool:
    """Notify one member; True if a notification was created, False when this
    dedupe_key was already used for this user (a retried job, a re-saved note).
    NOTIFY is transactional, so the bell hears of it only if the caller commits."""
    try:
        with transaction.atomic():
            note = Notification.objects.create(
                workspace_id=workspace_id,
                user_id=user_id,
                kind=kind,
                title=title[:200],
                body=body,
                url=url[:300],
                dedupe_key=dedupe_key[:120],
            )
    except IntegrityError:
        if not dedupe_key:
            raise
        return False
    publish(workspace_id, "notification", note.pk)
    return True


def do_mark_read(*, actor: Actor, notification: Notification) -> Notification:
    """Mark one of the actor's own notifications read (access_notification
    has checked it is theirs)."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def do_mark_all_read(*, actor: Actor) -> int:
    """Mark every unread notification of the actor read; returns how many."""
    if actor.user is None:
        return 0
    return Notification.objects.filter(
        workspace=actor.workspace, user_id=actor.user.pk, read_at__isnull=True
    ).update(read_at=timezone.now())
