"""Fetches of message templates, scoped to the actor's workspace."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from parley.core.errors import ActionError
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.whatsapp.models import Channel, MessageTemplate

STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED")


def access_template(actor: Actor, template_id: int) -> MessageTemplate:
    actor.require(Cap.CAMPAIGNS_READ)
    template = (
        MessageTemplate.objects.select_related("channel", "submitted_by")
        .filter(workspace=actor.workspace, id=template_id)
        .first()
    )
    if template is None:
        raise Http404("No such template.")
    return template


def template_list(
    actor: Actor, *, status: str | None = None, channel_id: int | None = None
) -> QuerySet[MessageTemplate]:
    """Every channel's templates; ``status`` is one of STATUSES (any case)."""
    actor.require(Cap.CAMPAIGNS_READ)
    qs = MessageTemplate.objects.filter(workspace=actor.workspace).select_related("channel")
    if status:
        if status.upper() not in STATUSES:
            raise ActionError(
                f"status is one of {', '.join(s.lower() for s in STATUSES)}.",
                code="invalid_status",
                field="status",
            )
        qs = qs.filter(status=status.upper())
    if channel_id is not None:
        qs = qs.filter(channel_id=channel_id)
    return qs


def channels(actor: Actor) -> list[Channel]:
    actor.require(Cap.CAMPAIGNS_READ)
    return list(Channel.objects.filter(workspace=actor.workspace).order_by("name", "id"))


def access_channel_for_templates(actor: Actor, channel_id: int) -> Channel:
    actor.require(Cap.CAMPAIGNS_READ)
    channel = Channel.objects.filter(workspace=actor.workspace, id=channel_id).first()
    if channel is None:
        raise Http404("No such channel.")
    return channel
