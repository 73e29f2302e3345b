"""Every change to notifications. Other apps notify through do_notify only."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from parley.core.events import publish
from parley.notifications.models import Notification


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
