"""The caller's own notifications over the API. Thin."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from parley.core.pagination import paginate
from parley.notifications import access, actions
from parley.notifications.schemas import (
    MarkedOut,
    NotificationOut,
    NotificationPage,
    UnreadCountOut,
)
from parley.tenancy.actor import actor_of

router = Router(tags=["notifications"])


@router.get(
    "/notifications",
    response=NotificationPage,
    summary="Your notifications, newest first",
    description="Only the caller's own. `unread=true` lists the unread ones. Needs a session: "
    "notifications belong to a person, not to an API token.",
)
def list_notifications(
    request: HttpRequest, unread: bool = False, cursor: str | None = None, limit: int = 50
) -> Any:
    qs = access.my_notifications(actor_of(request), unread=unread)
    return paginate(qs, cursor=cursor, limit=limit, newest_first=True)


@router.get(
    "/notifications/unread-count",
    response=UnreadCountOut,
    summary="How many of your notifications are unread",
    description=f"Counted up to {access.UNREAD_CAP}; `capped` says there are at least that many.",
)
def unread_count(request: HttpRequest) -> Any:
    actor = actor_of(request)
    access.require_person(actor)
    count = access.unread_count(actor)
    return {"unread": count, "capped": count >= access.UNREAD_CAP}


@router.post(
    "/notifications/read-all", response=MarkedOut, summary="Mark all your notifications read"
)
def read_all(request: HttpRequest) -> Any:
    actor = actor_of(request)
    access.require_person(actor)
    return {"marked": actions.do_mark_all_read(actor=actor)}


@router.post(
    "/notifications/{notification_id}/read",
    response=NotificationOut,
    summary="Mark one of your notifications read",
)
def read_one(request: HttpRequest, notification_id: int) -> Any:
    actor = actor_of(request)
    notification = access.access_notification(actor, notification_id)
    return actions.do_mark_read(actor=actor, notification=notification)
