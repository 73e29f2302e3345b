"""Fetches of channels: by id for a member, by webhook key for Meta's posts."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.http import Http404

from parley.core.crypto import decrypt
from parley.core.tenant import dangerously_cross_tenant
from parley.tenancy.actor import Actor
from parley.whatsapp.cloud import Credentials
from parley.whatsapp.models import Channel


def access_channel(actor: Actor, channel_id: int) -> Channel:
    channel = Channel.objects.filter(workspace=actor.workspace, id=channel_id).first()
    if channel is None:
        raise Http404("No such channel.")
    return channel


def credentials(channel: Channel) -> Credentials:
    return Credentials(
        phone_number_id=channel.phone_number_id,
        waba_id=channel.waba_id,
        access_token=decrypt(channel.access_token_enc),
    )


@dataclass(frozen=True)
class WebhookTarget:
    workspace_id: int
    channel_id: int
    phone_number_id: str
    app_secret: str
    verify_token: str
    active: bool


_CACHE_SECONDS = 30.0
_cache: dict[str, tuple[float, WebhookTarget | None]] = {}
_cache_lock = threading.Lock()


_MISS = object()


def cached_target(key: str) -> WebhookTarget | object | None:
    """The cached target for ``key``, or ``_MISS``."""
    hit = _cache.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    return _MISS


def remember_target(key: str, target: WebhookTarget | None) -> None:
    with _cache_lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[key] = (time.monotonic() + _CACHE_SECONDS, target)


def target_from_row(
    workspace_id: int,
    channel_id: int,
    phone_number_id: str,
    app_secret_enc: str,
    verify_token: str,
    status: str,
) -> WebhookTarget:
    return WebhookTarget(
        workspace_id=workspace_id,
        channel_id=channel_id,
        phone_number_id=phone_number_id,
        app_secret=decrypt(app_secret_enc),
        verify_token=verify_token,
        active=status == Channel.Status.ACTIVE,
    )


def webhook_target(key: str) -> WebhookTarget | None:
    """The channel a webhook key routes to. Cached briefly per process: the
    ingest hot path should not decrypt a secret on every post."""
    hit = cached_target(key)
    if hit is not _MISS:
        return hit  # type: ignore[return-value]
    with dangerously_cross_tenant(reason="webhook routing by channel key"):
        channel = Channel.objects.filter(webhook_key=key).first()
    target = (
        target_from_row(
            channel.workspace_id,
            channel.pk,
            channel.phone_number_id,
            channel.app_secret_enc,
            channel.verify_token,
            channel.status,
        )
        if channel is not None
        else None
    )
    remember_target(key, target)
    return target


def forget_webhook_target(key: str) -> None:
    with _cache_lock:
        _cache.pop(key, None)
