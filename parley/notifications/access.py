"""Fetching notifications: a person only ever sees their own, so another
member's notification is 404 like a missing one."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from parley.notifications.models import Notification
from parley.tenancy.actor import Actor

UNREAD_CAP = 100


def require_person(actor: Actor) -> int:
    if actor.user is None:
        raise PermissionDenied(
            "Notifications belong to a person: call this with a logged-in session, "
            "not an API token."
        )
    return int(actor.user.pk)


def my_notifications(actor: Actor, *, unread: bool = False) -> QuerySet[Notification]:
    qs = Notification.objects.filter(workspace=actor.workspace, user_id=require_person(actor))
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs


def access_notification(actor: Actor, notification_id: int) -> Notification:
    note = my_notifications(actor).filter(id=notification_id).first()
    if note is None:
        raise Http404("No such notification.")
    return note


def unread_count(actor: Actor) -> int:
    """Counted on the partial unread index and capped: the bell shows "99+",
    so a backlog of thousands costs no more than a hundred."""
    if actor.user is None:
        return 0
    return my_notifications(actor, unread=True)[:UNREAD_CAP].count()
