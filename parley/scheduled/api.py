"""Scheduled messages over the API. Thin."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from parley.core.pagination import paginate
from parley.crm.access import access_contact
from parley.scheduled import access, actions
from parley.scheduled.models import Kind, ScheduledMessage
from parley.scheduled.schemas import ScheduledIn, ScheduledOut, ScheduledPage, ScheduledUpdateIn
from parley.tenancy.actor import Actor, actor_of
from parley.tenancy.roles import Cap

router = Router(tags=["scheduled messages"])


def _with_note(scheduled: ScheduledMessage) -> ScheduledMessage:
    scheduled.window_note = actions.window_note(scheduled)  # type: ignore[attr-defined]
    return scheduled


def _reloaded(actor: Actor, scheduled: ScheduledMessage) -> ScheduledMessage:
    return _with_note(access.access_scheduled(actor, scheduled.pk))


@router.get("/scheduled", response=ScheduledPage, summary="List scheduled messages")
def list_scheduled(
    request: HttpRequest,
    status: str | None = None,
    contact_id: int | None = None,
    channel_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Any:
    """`status`: scheduled, sending, sent, failed, skipped or cancelled, or one of the
    page's filters: upcoming (scheduled or sending), failed (failed or skipped)."""
    qs = access.scheduled_list(
        actor_of(request), status=status, contact_id=contact_id, channel_id=channel_id
    ).select_related(*access.RELATED)
    return paginate(qs, cursor=cursor, limit=limit)


@router.post("/scheduled", response={201: ScheduledOut}, summary="Schedule a message")
def create_scheduled(request: HttpRequest, payload: ScheduledIn) -> Any:
    """A text (sent only if the customer's 24-hour window is open at that time; else the
    fallback template, or it fails with the reason) or an approved template, to one
    contact at `send_at`."""
    actor = actor_of(request)
    actor.require(Cap.CONVERSATIONS_WORK)  # before any lookup: say what is missing
    contact = access_contact(actor, payload.contact_id)
    channel = access.channel_for(actor, contact, payload.channel_id)
    kind = payload.kind or (Kind.TEMPLATE if payload.template_id else Kind.TEXT)
    what = actions.What(
        kind=kind,
        text=payload.text,
        template=(
            actions.template_by_id(actor, payload.template_id, field="template_id")
            if payload.template_id and kind == Kind.TEMPLATE
            else None
        ),
        mapping=payload.mapping,
        fallback_template=(
            actions.template_by_id(
                actor, payload.fallback_template_id, field="fallback_template_id"
            )
            if payload.fallback_template_id and kind == Kind.TEXT
            else None
        ),
        fallback_mapping=payload.fallback_mapping,
    )
    scheduled = actions.do_schedule_message(
        actor=actor, contact=contact, channel=channel, when=payload.send_at, what=what
    )
    return Status(201, _reloaded(actor, scheduled))


@router.get("/scheduled/{scheduled_id}", response=ScheduledOut, summary="Get a scheduled message")
def get_scheduled(request: HttpRequest, scheduled_id: int) -> Any:
    return _with_note(access.access_scheduled(actor_of(request), scheduled_id))


@router.patch(
    "/scheduled/{scheduled_id}", response=ScheduledOut, summary="Edit a scheduled message"
)
def update_scheduled(request: HttpRequest, scheduled_id: int, payload: ScheduledUpdateIn) -> Any:
    """Its time, its text or template and mapping, its fallback; 409 `already_sent`
    once it went out."""
    actor = actor_of(request)
    scheduled = access.access_scheduled(actor, scheduled_id)
    actor.require(Cap.CONVERSATIONS_WORK)
    sent = payload.model_fields_set
    changes: dict[str, Any] = {}
    if "send_at" in sent and payload.send_at is not None:
        changes["when"] = payload.send_at
    content_fields = {
        "kind",
        "text",
        "template_id",
        "mapping",
        "fallback_template_id",
        "fallback_mapping",
    }
    if sent & content_fields:
        what = actions.what_of(scheduled)
        parts: dict[str, Any] = {}
        if "kind" in sent and payload.kind:
            parts["kind"] = payload.kind
        elif "template_id" in sent and payload.template_id:
            parts["kind"] = Kind.TEMPLATE
        if "text" in sent and payload.text is not None:
            parts["text"] = payload.text
        if "template_id" in sent:
            parts["template"] = (
                actions.template_by_id(actor, payload.template_id, field="template_id")
                if payload.template_id
                else None
            )
        if "mapping" in sent and payload.mapping is not None:
            parts["mapping"] = payload.mapping
        if "fallback_template_id" in sent:
            parts["fallback_template"] = (
                actions.template_by_id(
                    actor, payload.fallback_template_id, field="fallback_template_id"
                )
                if payload.fallback_template_id
                else None
            )
            if not payload.fallback_template_id:
                parts["fallback_mapping"] = {}
        if "fallback_mapping" in sent and payload.fallback_mapping is not None:
            parts["fallback_mapping"] = payload.fallback_mapping
        changes["what"] = dataclasses.replace(what, **parts)
    scheduled = actions.do_update_scheduled(actor=actor, scheduled=scheduled, **changes)
    return _reloaded(actor, scheduled)


@router.post(
    "/scheduled/{scheduled_id}/cancel",
    response=ScheduledOut,
    summary="Cancel a scheduled message",
)
def cancel_scheduled(request: HttpRequest, scheduled_id: int) -> Any:
    """Before it fires; 409 `already_sent` after. Cancelling twice is harmless."""
    actor = actor_of(request)
    scheduled = access.access_scheduled(actor, scheduled_id)
    actions.do_cancel_scheduled(actor=actor, scheduled=scheduled)
    return _reloaded(actor, scheduled)
