"""Webhook pages: the endpoints with their 24-hour health, one endpoint's
chart and deliveries (filtered, with collapsible details), the form, and the
buttons (enable, rotate, test, retry, delete). Thin."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from parley.core.errors import ActionError
from parley.integrations import access, actions, health
from parley.integrations.catalogue import EXAMPLES, label
from parley.integrations.forms import DeliveryFilterForm, EndpointForm, RotateForm
from parley.integrations.models import Endpoint
from parley.integrations.signing import SIGNATURE_HEADER
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.tenancy.web import apply_action, flash_action, workspace_view

PAGE = 50
# The secret is shown once, on the page the browser goes to next.
SHOWN_ONCE = "webhook_shown_once"


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _url(actor: Actor, endpoint: Endpoint | int, name: str = "webhooks_endpoint") -> str:
    pk = endpoint if isinstance(endpoint, int) else endpoint.pk
    return reverse(name, args=[actor.workspace.slug, pk])


@workspace_view(Cap.WEBHOOKS_MANAGE)
@require_GET
def webhooks_index(request: HttpRequest, actor: Actor) -> HttpResponse:
    endpoints = list(access.endpoint_list(actor))
    rates = health.success_rates(actor.workspace.pk, [e.pk for e in endpoints])
    rows = [(e, rates[e.pk], [label(t) for t in e.events]) for e in endpoints]
    return render(request, "integrations/index.html", {"rows": rows})


@workspace_view(Cap.WEBHOOKS_MANAGE)
def webhooks_new(request: HttpRequest, actor: Actor) -> HttpResponseBase:
    if request.method == "POST":
        form = EndpointForm(request.POST)
        if form.is_valid():
            made = apply_action(
                form, lambda: actions.do_create_endpoint(actor=actor, fields=form.fields_value())
            )
            if made is not None:
                endpoint, secret = made
                request.session[SHOWN_ONCE] = [endpoint.pk, secret]
                messages.success(request, "Endpoint added. Copy its signing secret now.")
                return redirect(_url(actor, endpoint))
    else:
        form = EndpointForm(initial={"events": ["message.received"]})
    return render(request, "integrations/form.html", {"form": form, "endpoint": None})


@workspace_view(Cap.WEBHOOKS_MANAGE)
def webhooks_edit(request: HttpRequest, actor: Actor, endpoint_id: int) -> HttpResponseBase:
    endpoint = access.access_endpoint(actor, endpoint_id)
    if request.method == "POST":
        form = EndpointForm(request.POST)
        if form.is_valid():
            saved = apply_action(
                form,
                lambda: actions.do_update_endpoint(
                    actor=actor, endpoint=endpoint, fields=form.fields_value()
                ),
            )
            if saved is not None:
                messages.success(request, "Endpoint saved.")
                return redirect(_url(actor, endpoint))
    else:
        form = EndpointForm(
            initial={
                "url": endpoint.url,
                "description": endpoint.description,
                "events": endpoint.events,
            }
        )
    return render(request, "integrations/form.html", {"form": form, "endpoint": endpoint})


@workspace_view(Cap.WEBHOOKS_MANAGE)
@require_GET
def webhooks_endpoint(request: HttpRequest, actor: Actor, endpoint_id: int) -> HttpResponse:
    endpoint = access.access_endpoint(actor, endpoint_id)
    filters = DeliveryFilterForm(request.GET or None)
    chosen = access.DeliveryFilter()
    if filters.is_valid():
        data = filters.cleaned_data
        chosen = access.DeliveryFilter(
            status=data["status"],
            event_type=data["event_type"],
            since=data["since"],
            until=data["until"],
        )
    page = Paginator(access.delivery_list(actor, endpoint, chosen), PAGE).get_page(
        request.GET.get("page")
    )
    deliveries = list(page.object_list)
    for delivery in deliveries:
        delivery.payload_json = _pretty(delivery.payload)  # type: ignore[attr-defined]
        delivery.log = access.attempts_of(actor, delivery)  # type: ignore[attr-defined]
        for attempt in delivery.log:  # type: ignore[attr-defined]
            attempt.headers_json = _pretty(attempt.request_headers)
    hours = health.hourly(actor.workspace.pk, endpoint.pk)
    peak = max([h.total for h in hours] + [1])
    fresh = request.session.pop(SHOWN_ONCE, None)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "integrations/endpoint.html",
        {
            "endpoint": endpoint,
            "rate": health.success_rates(actor.workspace.pk, [endpoint.pk])[endpoint.pk],
            "hours": hours,
            "peak": peak,
            "filters": filters,
            "page": page,
            "deliveries": deliveries,
            "query": query.urlencode(),
            "new_secret": fresh[1] if fresh and fresh[0] == endpoint.pk else "",
            "rotate_form": RotateForm(),
            "event_labels": [label(t) for t in endpoint.events],
            "examples": {label(t): _pretty(EXAMPLES[t]) for t in endpoint.events},
            "signature_header": SIGNATURE_HEADER,
        },
    )


@workspace_view(Cap.WEBHOOKS_MANAGE)
@require_POST
def webhooks_toggle(request: HttpRequest, actor: Actor, endpoint_id: int) -> HttpResponseBase:
    endpoint = access.access_endpoint(actor, endpoint_id)
    enabled = request.POST.get("enabled") == "1"
    flash_action(
        request,
        lambda: actions.do_set_enabled(actor=actor, endpoint=endpoint, enabled=enabled),
        "Endpoint enabled." if enabled else "Endpoint disabled.",
    )
    return redirect(_url(actor, endpoint))


@workspace_view(Cap.WEBHOOKS_MANAGE)
@require_POST
def webhooks_rotate(request: HttpRequest, actor: Actor, endpoint_id: int) -> HttpResponseBase:
    endpoint = access.access_endpoint(actor, endpoint_id)
    form = RotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The overlap is a number of hours between 0 and 168.")
        return redirect(_url(actor, endpoint))
    hours = form.cleaned_data["overlap_hours"]
    secret = flash_action(
        request,
        lambda: actions.do_rotate_secret(actor=actor, endpoint=endpoint, overlap_hours=hours),
        f"Secret rotated; the old one stays valid for {hours:g} hours. Copy the new one now.",
    )
    if secret:
        request.session[SHOWN_ONCE] = [endpoint.pk, secret]
    return redirect(_url(actor, endpoint))


@workspace_view(Cap.WEBHOOKS_MANAGE)
@require_POST
def webhooks_test(request: HttpRequest, actor: Actor, endpoint_id: int) -> HttpResponseBase:
    endpoint = access.access_endpoint(actor, endpoint_id)
    try:
        delivery = actions.do_send_test(actor=actor, endpoint=endpoint)
    except ActionError as exc:
        messages.error(request, exc.message)
        return redirect(_url(actor, endpoint))
    if delivery.status == "succeeded":
        messages.success(
            request,
            f"Test event delivered: HTTP {delivery.last_status_code} "
            f"in {delivery.last_latency_ms or 0:.0f} ms.",
        )
    else:
        messages.error(request, f"Test event not delivered: {delivery.error}")
    return redirect(_url(actor, endpoint))


@workspace_view(Cap.WEBHOOKS_MANAGE)
@require_POST
def webhooks_retry(
    request: HttpRequest, actor: Actor, endpoint_id: int, delivery_id: int
) -> HttpResponseBase:
    endpoint = access.access_endpoint(actor, endpoint_id)
    delivery = access.access_delivery(actor, endpoint, delivery_id)
    flash_action(
        request,
        lambda: actions.do_retry_delivery(actor=actor, delivery=delivery),
        f"Delivery {delivery.pk} queued again.",
    )
    return redirect(_url(actor, endpoint))


@workspace_view(Cap.WEBHOOKS_MANAGE)
@require_POST
def webhooks_delete(request: HttpRequest, actor: Actor, endpoint_id: int) -> HttpResponseBase:
    endpoint = access.access_endpoint(actor, endpoint_id)
    flash_action(
        request,
        lambda: actions.do_delete_endpoint(actor=actor, endpoint=endpoint),
        "Endpoint deleted.",
    )
    return redirect(reverse("webhooks_index", args=[actor.workspace.slug]))
