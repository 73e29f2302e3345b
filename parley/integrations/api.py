"""The outbound webhooks API. Thin."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from parley.core.pagination import paginate
from parley.integrations import access, actions, health
from parley.integrations.catalogue import CATALOGUE, EXAMPLES
from parley.integrations.models import Endpoint
from parley.integrations.schemas import (
    DeliveryDetailOut,
    DeliveryOut,
    DeliveryPage,
    EndpointIn,
    EndpointOut,
    EndpointPage,
    EndpointUpdateIn,
    EndpointWithSecret,
    EventTypeOut,
    RotateIn,
)
from parley.tenancy.actor import Actor, actor_of

router = Router(tags=["webhooks"])

VERIFYING = """
Every delivery is a `POST` with a JSON body `{"id", "type", "created_at", "workspace_id",
"data"}` and these headers:

- `X-Parley-Event`: the event type; `X-Parley-Event-Id`: the event's id (the same on every
  retry: deduplicate on it); `X-Parley-Delivery`: this delivery's id.
- `X-Parley-Signature: t=<unix seconds>,v1=<hex>`: `v1` is
  `hex(HMAC-SHA256(secret, "<t>." + raw body))`. During a secret rotation's overlap a second
  `v1` (signed with the old secret) follows; accept the request if any `v1` matches.

To verify: take `t` and the `v1` values from the header, compute the HMAC over the bytes
`f"{t}."` followed by the raw request body (before any JSON parsing) with your secret,
compare in constant time, and refuse timestamps older than a few minutes (replays).
Answer 2xx within 10 seconds. Timeouts, connection errors, 408, 429 and 5xx are retried
with exponential backoff for up to 24 hours; other answers fail the delivery. An endpoint
that fails for 24 hours is disabled and the workspace's admins are notified.
"""


def _with_health(actor: Actor, endpoints: list[Endpoint]) -> list[Endpoint]:
    rates = health.success_rates(actor.workspace.pk, [e.pk for e in endpoints])
    for endpoint in endpoints:
        rate = rates.get(endpoint.pk)
        endpoint.success_rate_24h = rate.percent if rate else None  # type: ignore[attr-defined]
        endpoint.attempts_24h = rate.total if rate else 0  # type: ignore[attr-defined]
    return endpoints


@router.get("/webhooks/events", response=list[EventTypeOut], summary="List webhook event types")
def list_event_types(request: HttpRequest) -> Any:
    actor_of(request)
    return [{"type": t, "label": label, "example": EXAMPLES[t]} for t, label, _s in CATALOGUE]


list_event_types.__doc__ = (
    "What an endpoint can subscribe to, with each event's `data`.\n" + VERIFYING
)


@router.get("/webhooks/endpoints", response=EndpointPage, summary="List webhook endpoints")
def list_endpoints(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> Any:
    """With each endpoint's success rate over the last 24 hours. Admins and owners only."""
    actor = actor_of(request)
    page = paginate(access.endpoint_list(actor), cursor=cursor, limit=limit)
    page["items"] = _with_health(actor, page["items"])
    return page


@router.post(
    "/webhooks/endpoints",
    response={201: EndpointWithSecret},
    summary="Register a webhook endpoint",
    description="Returns the signing secret once.\n" + VERIFYING,
)
def create_endpoint(request: HttpRequest, payload: EndpointIn) -> Any:
    actor = actor_of(request)
    endpoint, secret = actions.do_create_endpoint(
        actor=actor,
        fields=actions.EndpointFields(
            url=payload.url, events=list(payload.events), description=payload.description
        ),
    )
    return Status(201, _out_with_secret(actor, endpoint, secret))


def _out_with_secret(actor: Actor, endpoint: Endpoint, secret: str) -> dict[str, Any]:
    out = EndpointOut.from_orm(_with_health(actor, [endpoint])[0]).dict()
    return {**out, "secret": secret}


@router.get("/webhooks/endpoints/{endpoint_id}", response=EndpointOut, summary="Get an endpoint")
def get_endpoint(request: HttpRequest, endpoint_id: int) -> Any:
    actor = actor_of(request)
    return _with_health(actor, [access.access_endpoint(actor, endpoint_id)])[0]


@router.patch("/webhooks/endpoints/{endpoint_id}", response=EndpointOut, summary="Edit an endpoint")
def update_endpoint(request: HttpRequest, endpoint_id: int, payload: EndpointUpdateIn) -> Any:
    actor = actor_of(request)
    endpoint = access.access_endpoint(actor, endpoint_id)
    sent = payload.model_fields_set
    fields = actions.EndpointFields.of(endpoint)
    if "url" in sent and payload.url is not None:
        fields.url = payload.url
    if "events" in sent and payload.events is not None:
        fields.events = list(payload.events)
    if "description" in sent and payload.description is not None:
        fields.description = payload.description
    if sent & {"url", "events", "description"}:
        endpoint = actions.do_update_endpoint(actor=actor, endpoint=endpoint, fields=fields)
    if "enabled" in sent and payload.enabled is not None:
        endpoint = actions.do_set_enabled(actor=actor, endpoint=endpoint, enabled=payload.enabled)
    return _with_health(actor, [endpoint])[0]


@router.delete(
    "/webhooks/endpoints/{endpoint_id}", response={204: None}, summary="Delete an endpoint"
)
def delete_endpoint(request: HttpRequest, endpoint_id: int) -> Any:
    """Its deliveries and their log are deleted with it."""
    actor = actor_of(request)
    actions.do_delete_endpoint(actor=actor, endpoint=access.access_endpoint(actor, endpoint_id))
    return Status(204, None)


@router.post(
    "/webhooks/endpoints/{endpoint_id}/rotate-secret",
    response=EndpointWithSecret,
    summary="Rotate an endpoint's secret",
)
def rotate_secret(request: HttpRequest, endpoint_id: int, payload: RotateIn) -> Any:
    """A new secret, returned once. Deliveries carry a signature by each secret
    (two `v1` values) until the overlap ends, then by the new one only."""
    actor = actor_of(request)
    endpoint = access.access_endpoint(actor, endpoint_id)
    secret = actions.do_rotate_secret(
        actor=actor, endpoint=endpoint, overlap_hours=payload.overlap_hours
    )
    return _out_with_secret(actor, endpoint, secret)


@router.post(
    "/webhooks/endpoints/{endpoint_id}/test",
    response=DeliveryDetailOut,
    summary="Send a test event",
)
def send_test(request: HttpRequest, endpoint_id: int) -> Any:
    """A `ping` event, signed and sent now through the normal delivery path
    (also to a disabled endpoint, to check it before enabling it again).
    Returns the delivery with the receiver's answer."""
    actor = actor_of(request)
    endpoint = access.access_endpoint(actor, endpoint_id)
    delivery = actions.do_send_test(actor=actor, endpoint=endpoint)
    return _detail(actor, delivery)


def _detail(actor: Actor, delivery: Any) -> dict[str, Any]:
    out = DeliveryOut.from_orm(delivery).dict()
    attempts = [
        {
            "number": a.number,
            "url": a.url,
            "request_headers": a.request_headers,
            "request_body": a.request_body,
            "response_status": a.response_status,
            "response_excerpt": a.response_excerpt,
            "latency_ms": a.latency_ms,
            "error": a.error,
            "will_retry": a.will_retry,
            "at": a.at,
        }
        for a in access.attempts_of(actor, delivery)
    ]
    return {**out, "payload": delivery.payload, "attempt_log": attempts}


@router.get(
    "/webhooks/endpoints/{endpoint_id}/deliveries",
    response=DeliveryPage,
    summary="List an endpoint's deliveries",
)
def list_deliveries(
    request: HttpRequest,
    endpoint_id: int,
    status: str = "",
    event_type: str = "",
    since: date | None = None,
    until: date | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Any:
    """Newest first; filter by status (pending, succeeded, failed, dead), event type and
    creation date (inclusive, in the workspace's time zone)."""
    actor = actor_of(request)
    endpoint = access.access_endpoint(actor, endpoint_id)
    rows = access.delivery_list(
        actor,
        endpoint,
        access.DeliveryFilter(status=status, event_type=event_type, since=since, until=until),
    )
    return paginate(rows, cursor=cursor, limit=limit, newest_first=True)


@router.get(
    "/webhooks/endpoints/{endpoint_id}/deliveries/{delivery_id}",
    response=DeliveryDetailOut,
    summary="Get a delivery with its attempts",
)
def get_delivery(request: HttpRequest, endpoint_id: int, delivery_id: int) -> Any:
    actor = actor_of(request)
    endpoint = access.access_endpoint(actor, endpoint_id)
    return _detail(actor, access.access_delivery(actor, endpoint, delivery_id))


@router.post(
    "/webhooks/endpoints/{endpoint_id}/deliveries/{delivery_id}/retry",
    response=DeliveryOut,
    summary="Retry a delivery",
)
def retry_delivery(request: HttpRequest, endpoint_id: int, delivery_id: int) -> Any:
    """Queues it again now, with a fresh 24-hour retry window."""
    actor = actor_of(request)
    endpoint = access.access_endpoint(actor, endpoint_id)
    delivery = access.access_delivery(actor, endpoint, delivery_id)
    return actions.do_retry_delivery(actor=actor, delivery=delivery)
