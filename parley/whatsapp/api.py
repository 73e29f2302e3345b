"""Channels over the API (admins)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from parley.tenancy.actor import actor_of
from parley.tenancy.roles import Cap
from parley.whatsapp import actions
from parley.whatsapp.access import access_channel
from parley.whatsapp.models import Channel, MessageTemplate
from parley.whatsapp.schemas import (
    ChannelIn,
    ChannelOut,
    ChannelSecretsIn,
    ChannelStatusIn,
    TemplateOut,
)

router = Router(tags=["channels"])


def _out(channel: Channel) -> dict[str, Any]:
    return {**channel.__dict__, "webhook_url": actions.webhook_url(channel)}


@router.get("/channels", response=list[ChannelOut], summary="List channels (admins)")
def list_channels(request: HttpRequest) -> Any:
    actor = actor_of(request)
    actor.require(Cap.WORKSPACE_MANAGE)
    return [_out(c) for c in Channel.objects.filter(workspace=actor.workspace).order_by("id")]


@router.post("/channels", response={201: ChannelOut}, summary="Connect a WhatsApp number")
def connect(request: HttpRequest, payload: ChannelIn) -> Any:
    channel = actions.do_connect_channel(actor=actor_of(request), **payload.model_dump())
    return Status(201, _out(channel))


@router.get("/channels/{channel_id}", response=ChannelOut, summary="Get a channel")
def get_channel(request: HttpRequest, channel_id: int) -> Any:
    actor = actor_of(request)
    actor.require(Cap.WORKSPACE_MANAGE)
    return _out(access_channel(actor, channel_id))


@router.post("/channels/{channel_id}/test", response=ChannelOut, summary="Test the connection")
def test_channel(request: HttpRequest, channel_id: int) -> Any:
    actor = actor_of(request)
    actor.require(Cap.WORKSPACE_MANAGE)
    return _out(actions.do_test_channel(actor=actor, channel=access_channel(actor, channel_id)))


@router.post(
    "/channels/{channel_id}/secrets", response=ChannelOut, summary="Rotate the token or app secret"
)
def rotate(request: HttpRequest, channel_id: int, payload: ChannelSecretsIn) -> Any:
    actor = actor_of(request)
    actor.require(Cap.WORKSPACE_MANAGE)
    channel = access_channel(actor, channel_id)
    return _out(
        actions.do_rotate_channel_secrets(actor=actor, channel=channel, **payload.model_dump())
    )


@router.post("/channels/{channel_id}/status", response=ChannelOut, summary="Enable or disable")
def set_status(request: HttpRequest, channel_id: int, payload: ChannelStatusIn) -> Any:
    actor = actor_of(request)
    actor.require(Cap.WORKSPACE_MANAGE)
    channel = access_channel(actor, channel_id)
    return _out(actions.do_set_channel_status(actor=actor, channel=channel, active=payload.active))


@router.delete(
    "/channels/{channel_id}", response={204: None}, summary="Delete with its conversations"
)
def delete(request: HttpRequest, channel_id: int, confirm: str = "") -> Any:
    """`confirm` (query) must repeat the channel's name: its conversations go with it."""
    actor = actor_of(request)
    actor.require(Cap.WORKSPACE_MANAGE)
    actions.do_delete_channel(
        actor=actor, channel=access_channel(actor, channel_id), confirm=confirm
    )
    return Status(204, None)


@router.get(
    "/channels/{channel_id}/templates",
    response=list[TemplateOut],
    summary="The channel's message templates (as last synced)",
)
def list_templates(request: HttpRequest, channel_id: int) -> Any:
    actor = actor_of(request)
    actor.require(Cap.CONVERSATIONS_READ)
    channel = access_channel(actor, channel_id)
    return list(
        MessageTemplate.objects.filter(workspace=actor.workspace, channel=channel).order_by("name")
    )


@router.post(
    "/channels/{channel_id}/templates/sync",
    response={202: None},
    summary="Fetch the channel's templates from Meta again",
)
def sync_templates(request: HttpRequest, channel_id: int) -> Any:
    actor = actor_of(request)
    actions.do_sync_templates(actor=actor, channel=access_channel(actor, channel_id))
    return Status(202, None)
