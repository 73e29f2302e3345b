"""Every state change of channels: connect, test, rotate, disable, delete."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from parley.core.crypto import encrypt, last4
from parley.core.errors import ActionError, Conflict
from parley.tenancy.actions import record
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.whatsapp import cloud
from parley.whatsapp.access import credentials, forget_webhook_target
from parley.whatsapp.errors import CloudApiError
from parley.whatsapp.models import TIER_LIMITS, Channel, MessageTemplate


def webhook_url(channel: Channel) -> str:
    return settings.BASE_URL + reverse("whatsapp_webhook", args=[channel.webhook_key])


def _digits(value: str, field: str, label: str) -> str:
    value = value.strip()
    if not value.isdigit() or not 5 <= len(value) <= 30:
        raise ActionError(
            f"{label} is the number Meta shows, digits only.", code="invalid", field=field
        )
    return value


@transaction.atomic
def do_connect_channel(
    *,
    actor: Actor,
    name: str,
    phone_number_id: str,
    waba_id: str,
    access_token: str,
    app_secret: str,
    display_phone_number: str = "",
    throughput_cap: int = 80,
) -> Channel:
    actor.require(Cap.WORKSPACE_MANAGE)
    phone_number_id = _digits(phone_number_id, "phone_number_id", "The phone number id")
    waba_id = _digits(waba_id, "waba_id", "The WhatsApp Business Account id")
    if len(access_token.strip()) < 10:
        raise ActionError(
            "Paste the channel's access token.", code="required", field="access_token"
        )
    if len(app_secret.strip()) < 8:
        raise ActionError("Paste the Meta app's secret.", code="required", field="app_secret")
    if not 1 <= throughput_cap <= 1000:
        raise ActionError(
            "Throughput is 80 messages/s by default, up to 1,000 once Meta raises it.",
            code="invalid",
            field="throughput_cap",
        )
    if Channel.objects.filter(workspace=actor.workspace, phone_number_id=phone_number_id).exists():
        raise Conflict(
            "This number is connected already.", code="duplicate", field="phone_number_id"
        )
    channel = Channel.objects.create(
        workspace=actor.workspace,
        name=(name.strip() or display_phone_number or phone_number_id)[:100],
        phone_number_id=phone_number_id,
        waba_id=waba_id,
        display_phone_number=display_phone_number.strip()[:32],
        access_token_enc=encrypt(access_token.strip()),
        access_token_hint=last4(access_token.strip()),
        app_secret_enc=encrypt(app_secret.strip()),
        app_secret_hint=last4(app_secret.strip()),
        webhook_key=secrets.token_urlsafe(32),
        verify_token=secrets.token_urlsafe(24),
        throughput_cap=throughput_cap,
    )
    record(actor, "channel.connected", channel.name)
    do_sync_templates(actor=actor, channel=channel)
    return channel


@transaction.atomic
def do_test_channel(*, actor: Actor, channel: Channel) -> Channel:
    """Fetch the number's details from the Graph API and remember the outcome."""
    actor.require(Cap.WORKSPACE_MANAGE)
    try:
        details = cloud.number_details(credentials(channel))
    except CloudApiError as exc:
        channel.last_test_ok = False
        channel.last_test_detail = exc.reason[:300]
    else:
        channel.last_test_ok = True
        channel.verified_name = str(details.get("verified_name") or "")[:200]
        channel.display_phone_number = str(
            details.get("display_phone_number") or channel.display_phone_number
        )[:32]
        tier = str(details.get("messaging_limit_tier") or "")
        if tier in TIER_LIMITS:
            channel.messaging_limit_tier = tier
        channel.last_test_detail = (
            f"Connected: {channel.verified_name or channel.display_phone_number}"
        )
    channel.last_tested_at = timezone.now()
    channel.save(
        update_fields=[
            "last_test_ok",
            "last_test_detail",
            "last_tested_at",
            "verified_name",
            "display_phone_number",
            "messaging_limit_tier",
        ]
    )
    return channel


@transaction.atomic
def do_rotate_channel_secrets(
    *, actor: Actor, channel: Channel, access_token: str = "", app_secret: str = ""
) -> Channel:
    actor.require(Cap.WORKSPACE_MANAGE)
    fields = []
    if access_token.strip():
        channel.access_token_enc = encrypt(access_token.strip())
        channel.access_token_hint = last4(access_token.strip())
        fields += ["access_token_enc", "access_token_hint"]
    if app_secret.strip():
        channel.app_secret_enc = encrypt(app_secret.strip())
        channel.app_secret_hint = last4(app_secret.strip())
        fields += ["app_secret_enc", "app_secret_hint"]
    if not fields:
        raise ActionError("Paste a new token or app secret.", code="required", field="access_token")
    channel.save(update_fields=fields)
    transaction.on_commit(lambda: forget_webhook_target(channel.webhook_key))
    record(actor, "channel.secrets_rotated", channel.name)
    return channel


@transaction.atomic
def do_set_channel_status(*, actor: Actor, channel: Channel, active: bool) -> Channel:
    actor.require(Cap.WORKSPACE_MANAGE)
    channel.status = Channel.Status.ACTIVE if active else Channel.Status.DISABLED
    channel.save(update_fields=["status"])
    transaction.on_commit(lambda: forget_webhook_target(channel.webhook_key))
    record(actor, "channel.enabled" if active else "channel.disabled", channel.name)
    return channel


@transaction.atomic
def do_delete_channel(*, actor: Actor, channel: Channel, confirm: str) -> None:
    """Delete the channel with its conversations and messages."""
    actor.require(Cap.WORKSPACE_MANAGE)
    if confirm.strip() != channel.display_phone_number and confirm.strip() != channel.name:
        raise ActionError(
            "Type the channel's name to confirm: its conversations are deleted with it.",
            code="confirmation_mismatch",
            field="confirm",
        )
    key = channel.webhook_key
    name = channel.name
    channel.delete()
    transaction.on_commit(lambda: forget_webhook_target(key))
    record(actor, "channel.deleted", name)


@transaction.atomic
def do_sync_templates(*, actor: Actor, channel: Channel) -> None:
    """Fetch the channel's templates from Meta, in a job."""
    from procrastinate.contrib.django import app

    actor.require(Cap.CONVERSATIONS_READ)
    # By name: whatsapp.tasks imports this module.
    app.configure_task(name="whatsapp.sync_templates").defer(
        workspace_id=actor.workspace.pk, channel_id=channel.pk
    )


def store_templates(channel: Channel, templates: list[dict[str, Any]]) -> int:
    """Replace the channel's synced templates with Meta's list."""
    now = timezone.now()
    seen = set()
    for t in templates:
        name, language = str(t.get("name") or ""), str(t.get("language") or "")
        if not name or not language:
            continue
        seen.add((name, language))
        MessageTemplate.objects.update_or_create(
            workspace_id=channel.workspace_id,
            channel=channel,
            name=name,
            language=language,
            defaults={
                "meta_id": str(t.get("id") or ""),
                "category": str(t.get("category") or ""),
                "status": str(t.get("status") or "").upper(),
                "components": t.get("components") or [],
                "rejected_reason": str(t.get("rejected_reason") or "")[:300],
                "synced_at": now,
            },
        )
    stale = MessageTemplate.objects.filter(workspace_id=channel.workspace_id, channel=channel)
    for template in stale:
        if (template.name, template.language) not in seen:
            template.delete()
    return len(seen)


# Meta's status events that mean an existing state.
TEMPLATE_EVENTS = {"REINSTATED": "APPROVED"}


def _template_reason(value: dict[str, Any]) -> str:
    """Meta's reason code with its explanation, e.g. 'INVALID_FORMAT: The template ...'."""
    reason = str(value.get("reason") or "")
    reason = "" if reason.upper() == "NONE" else reason
    info = value.get("rejection_info") or value.get("other_info") or {}
    detail = (
        str(info.get("reason") or info.get("description") or "") if isinstance(info, dict) else ""
    )
    return ": ".join(part for part in (reason, detail) if part)[:300]


def apply_template_status(channel: Channel, value: dict[str, Any]) -> bool:
    """A message_template_status_update webhook: Meta reviewed a template."""
    name = str(value.get("message_template_name") or "")
    language = str(value.get("message_template_language") or "")
    event = str(value.get("event") or "").upper()
    if not name or not event:
        return False
    status = TEMPLATE_EVENTS.get(event, event)
    reason = _template_reason(value)
    templates = list(
        MessageTemplate.objects.filter(
            workspace_id=channel.workspace_id,
            channel__waba_id=channel.waba_id,
            name=name,
            **({"language": language} if language else {}),
        )
    )
    entry = {"status": status, "reason": reason, "at": timezone.now().isoformat(), "by": "Meta"}
    for template in templates:
        template.status = status
        template.rejected_reason = reason
        template.status_history = [*(template.status_history or []), entry][-50:]
        template.save(update_fields=["status", "rejected_reason", "status_history"])
    return bool(templates)
