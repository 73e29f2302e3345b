"""Every fetch of webhook rows by id, and the lists the pages and the API
show, scoped to the actor's workspace. Admins and owners only: deliveries
carry customer data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from parley.core.errors import ActionError
from parley.integrations.models import Attempt, Delivery, DeliveryStatus, Endpoint
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap


def access_endpoint(actor: Actor, endpoint_id: int) -> Endpoint:
    actor.require(Cap.WEBHOOKS_MANAGE)
    endpoint = Endpoint.objects.filter(workspace=actor.workspace, pk=endpoint_id).first()
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    return endpoint


def access_delivery(actor: Actor, endpoint: Endpoint, delivery_id: int) -> Delivery:
    actor.require(Cap.WEBHOOKS_MANAGE)
    delivery = (
        Delivery.objects.select_related("endpoint")
        .filter(workspace=actor.workspace, endpoint=endpoint, pk=delivery_id)
        .first()
    )
    if delivery is None:
        raise Http404("No such delivery.")
    return delivery


def endpoint_list(actor: Actor) -> QuerySet[Endpoint]:
    actor.require(Cap.WEBHOOKS_MANAGE)
    return Endpoint.objects.filter(workspace=actor.workspace).order_by("pk")


@dataclass(frozen=True)
class DeliveryFilter:
    status: str = ""
    event_type: str = ""
    since: date | None = None
    until: date | None = None


def delivery_list(actor: Actor, endpoint: Endpoint, f: DeliveryFilter) -> QuerySet[Delivery]:
    """An endpoint's deliveries, newest first."""
    actor.require(Cap.WEBHOOKS_MANAGE)
    rows = Delivery.objects.filter(workspace=actor.workspace, endpoint=endpoint)
    if f.status:
        if f.status not in DeliveryStatus.values:
            raise ActionError(
                f"Unknown status {f.status!r}; use one of {', '.join(DeliveryStatus.values)}.",
                code="invalid_status",
                field="status",
            )
        rows = rows.filter(status=f.status)
    if f.event_type:
        rows = rows.filter(event_type=f.event_type)
    zone = timezone.get_current_timezone()
    if f.since:
        rows = rows.filter(created_at__gte=datetime.combine(f.since, time.min, zone))
    if f.until:
        rows = rows.filter(
            created_at__lt=datetime.combine(f.until + timedelta(days=1), time.min, zone)
        )
    return rows.order_by("-created_at", "-pk")


def attempts_of(actor: Actor, delivery: Delivery) -> list[Attempt]:
    actor.require(Cap.WEBHOOKS_MANAGE)
    return list(
        Attempt.objects.filter(workspace=actor.workspace, delivery=delivery).order_by("number")
    )
