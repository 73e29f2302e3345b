"""The notifications page, the click-through, "mark all read" and the bell
fragment the sidebar polls. Thin."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from parley.core.errors import ActionError
from parley.core.pagination import paginate
from parley.notifications import access, actions
from parley.tenancy.actor import Actor
from parley.tenancy.web import workspace_view

PAGE = 50


@require_GET
@workspace_view()
def notification_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    unread = request.GET.get("show") == "unread"
    try:
        page = paginate(
            access.my_notifications(actor, unread=unread),
            cursor=request.GET.get("cursor") or None,
            limit=PAGE,
            newest_first=True,
        )
    except ActionError:  # a mangled cursor: start again from the newest
        return redirect(reverse("notifications_list", args=[actor.workspace.slug]))
    return render(
        request,
        "notifications/list.html",
        {
            "items": page["items"],
            "next_cursor": page["next_cursor"],
            "unread_only": unread,
            "first_page": not request.GET.get("cursor"),
        },
    )


@require_POST
@workspace_view()
def notification_open(request: HttpRequest, actor: Actor, notification_id: int) -> HttpResponse:
    notification = access.access_notification(actor, notification_id)
    actions.do_mark_read(actor=actor, notification=notification)
    target = notification.url
    # Only follow links into this site: a stored URL must never become an
    # open redirect.
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(reverse("notifications_list", args=[actor.workspace.slug]))


@require_POST
@workspace_view()
def notification_read_all(request: HttpRequest, actor: Actor) -> HttpResponseBase:
    actions.do_mark_all_read(actor=actor)
    return redirect(reverse("notifications_list", args=[actor.workspace.slug]))


@require_GET
@workspace_view()
def notification_bell(request: HttpRequest, actor: Actor) -> HttpResponse:
    return render(request, "notifications/_bell.html", bell_context(actor))


def bell_context(actor: Actor) -> dict[str, object]:
    count = access.unread_count(actor)
    return {
        "bell_count": count,
        "bell_label": f"{access.UNREAD_CAP - 1}+" if count >= access.UNREAD_CAP else str(count),
        "bell_slug": actor.workspace.slug,
    }
