"""Every change to webhook endpoints and deliveries."""

from __future__ import annotations

import secrets as random_secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from parley.core import crypto, interest
from parley.core.errors import ActionError
from parley.integrations import fanout, sender, ssrf
from parley.integrations.catalogue import EVENT_TYPES
from parley.integrations.models import Delivery, DeliveryStatus, Endpoint
from parley.tenancy.actions import record as audit
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap

MAX_ENDPOINTS = 20
MAX_URL = 500
MAX_DESCRIPTION = 200
# How long the old secret keeps signing after a rotation, by default and at most.
DEFAULT_OVERLAP_HOURS = 24
MAX_OVERLAP_HOURS = 7 * 24


@dataclass
class EndpointFields:
    url: str
    events: list[str] = field(default_factory=list)
    description: str = ""

    @classmethod
    def of(cls, endpoint: Endpoint) -> EndpointFields:
        return cls(url=endpoint.url, events=list(endpoint.events), description=endpoint.description)


def new_secret() -> str:
    return "whsec_" + random_secrets.token_urlsafe(32)


def check_url(url: str) -> str:
    """The URL, trimmed, or ActionError saying why it cannot be used."""
    url = url.strip()
    if not url:
        raise ActionError("Enter the URL that receives the webhooks.", code="required", field="url")
    if len(url) > MAX_URL:
        raise ActionError(f"The URL is at most {MAX_URL} characters.", code="too_long", field="url")
    try:
        ssrf.check_url(url)
    except (ssrf.RefusedAddress, ssrf.Unresolvable) as exc:
        raise ActionError(str(exc), code="refused_url", field="url") from exc
    return url


def _clean(fields: EndpointFields) -> EndpointFields:
    url = check_url(fields.url)
    events = sorted({str(e) for e in fields.events})
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise ActionError(
            f"Unknown event(s) {', '.join(unknown)}; choose from {', '.join(EVENT_TYPES)}.",
            code="invalid_events",
            field="events",
        )
    if not events:
        raise ActionError("Pick at least one event.", code="required", field="events")
    description = fields.description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise ActionError(
            f"The description is at most {MAX_DESCRIPTION} characters.",
            code="too_long",
            field="description",
        )
    return EndpointFields(url=url, events=events, description=description)


def do_create_endpoint(*, actor: Actor, fields: EndpointFields) -> tuple[Endpoint, str]:
    """A new, enabled endpoint and its signing secret (shown to the caller now)."""
    actor.require(Cap.WEBHOOKS_MANAGE)
    clean = _clean(fields)
    if Endpoint.objects.filter(workspace=actor.workspace).count() >= MAX_ENDPOINTS:
        raise ActionError(
            f"A workspace has at most {MAX_ENDPOINTS} webhook endpoints; delete one first.",
            code="too_many",
        )
    secret = new_secret()
    endpoint = Endpoint.objects.create(
        workspace=actor.workspace,
        url=clean.url,
        events=clean.events,
        description=clean.description,
        secret_encrypted=crypto.encrypt(secret),
        created_by=actor.user,
    )
    audit(actor, "webhook.created", target=clean.url, endpoint_id=endpoint.pk, events=clean.events)
    interest.bump(actor.workspace.pk)
    return endpoint, secret


def do_update_endpoint(*, actor: Actor, endpoint: Endpoint, fields: EndpointFields) -> Endpoint:
    actor.require(Cap.WEBHOOKS_MANAGE)
    clean = _clean(fields)
    endpoint.url, endpoint.events, endpoint.description = clean.url, clean.events, clean.description
    endpoint.updated_at = timezone.now()
    endpoint.save(update_fields=["url", "events", "description", "updated_at"])
    audit(actor, "webhook.updated", target=clean.url, endpoint_id=endpoint.pk, events=clean.events)
    interest.bump(actor.workspace.pk)
    return endpoint


def do_delete_endpoint(*, actor: Actor, endpoint: Endpoint) -> None:
    """Its deliveries and their log go with it."""
    actor.require(Cap.WEBHOOKS_MANAGE)
    audit(actor, "webhook.deleted", target=endpoint.url, endpoint_id=endpoint.pk)
    endpoint.delete()
    interest.bump(actor.workspace.pk)


def do_set_enabled(*, actor: Actor, endpoint: Endpoint, enabled: bool) -> Endpoint:
    """Enabling starts a fresh failure count (the admin says it is fixed)."""
    actor.require(Cap.WEBHOOKS_MANAGE)
    if enabled:
        check_url(endpoint.url)
    endpoint.enabled = enabled
    endpoint.disabled_reason = "" if enabled else f"Disabled by {actor.display_name}."
    endpoint.failing_since = None
    endpoint.consecutive_failures = 0
    endpoint.updated_at = timezone.now()
    endpoint.save(
        update_fields=[
            "enabled",
            "disabled_reason",
            "failing_since",
            "consecutive_failures",
            "updated_at",
        ]
    )
    interest.bump(actor.workspace.pk)
    audit(actor, "webhook.enabled" if enabled else "webhook.disabled", target=endpoint.url)
    return endpoint


def do_rotate_secret(
    *, actor: Actor, endpoint: Endpoint, overlap_hours: float = DEFAULT_OVERLAP_HOURS
) -> str:
    """A new secret; the current one keeps signing (as a second ``v1``) for
    ``overlap_hours``, so receivers can switch without losing a delivery.
    0 drops the old one at once (a leaked secret)."""
    actor.require(Cap.WEBHOOKS_MANAGE)
    if not 0 <= overlap_hours <= MAX_OVERLAP_HOURS:
        raise ActionError(
            f"The overlap is between 0 and {MAX_OVERLAP_HOURS} hours.",
            code="invalid_overlap",
            field="overlap_hours",
        )
    secret = new_secret()
    if overlap_hours > 0:
        endpoint.previous_secret_encrypted = endpoint.secret_encrypted
        endpoint.previous_secret_expires_at = timezone.now() + timedelta(hours=overlap_hours)
    else:
        endpoint.previous_secret_encrypted = ""
        endpoint.previous_secret_expires_at = None
    endpoint.secret_encrypted = crypto.encrypt(secret)
    endpoint.updated_at = timezone.now()
    endpoint.save(
        update_fields=[
            "secret_encrypted",
            "previous_secret_encrypted",
            "previous_secret_expires_at",
            "updated_at",
        ]
    )
    audit(actor, "webhook.secret_rotated", target=endpoint.url, overlap_hours=overlap_hours)
    return secret


def do_send_test(*, actor: Actor, endpoint: Endpoint) -> Delivery:
    """A "ping" event, sent now through the same path as every delivery
    (claim, sign, send, record); returns the delivery with its outcome.
    A failed ping is retried like any delivery."""
    actor.require(Cap.WEBHOOKS_MANAGE)
    workspace_id = actor.workspace.pk
    with transaction.atomic():
        delivery = fanout.ping(workspace_id=workspace_id, endpoint=endpoint)
    sender.deliver(workspace_id, limit=1, ids=[delivery.pk])
    delivery.refresh_from_db()
    if delivery.status == DeliveryStatus.PENDING:
        from parley.integrations.tasks import kick

        kick(workspace_id)
    return delivery


def do_retry_delivery(*, actor: Actor, delivery: Delivery) -> Delivery:
    """Send a delivery again now, whatever its status (a receiver may have lost
    a success too), with a fresh retry window."""
    actor.require(Cap.WEBHOOKS_MANAGE)
    endpoint = delivery.endpoint
    if not endpoint.enabled and delivery.event_type != "ping":
        raise ActionError(
            "The endpoint is disabled; enable it first, then retry.", code="endpoint_disabled"
        )
    now = timezone.now()
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = now
    delivery.window_start = now
    delivery.finished_at = None
    delivery.save(update_fields=["status", "next_attempt_at", "window_start", "finished_at"])
    from parley.integrations.tasks import kick

    kick(actor.workspace.pk)
    audit(actor, "webhook.delivery_retried", target=endpoint.url, delivery_id=delivery.pk)
    return delivery
