"""Every state change of message templates: submit to Meta, edit (resubmit),
delete, sync. Meta's answer is awaited in the request: the person submitting
needs its refusal (a duplicate name, a bad example) on the form, not later."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from parley.core.errors import ActionError, Conflict
from parley.msgtemplates import spec as specs
from parley.msgtemplates.spec import TemplateSpec
from parley.tenancy.actions import record
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.whatsapp import cloud
from parley.whatsapp.access import credentials
from parley.whatsapp.actions import do_sync_templates
from parley.whatsapp.errors import CloudApiError
from parley.whatsapp.models import Channel, MessageTemplate

EDITABLE = ("APPROVED", "REJECTED", "PAUSED")
HISTORY_LIMIT = 50


def history_entry(status: str, reason: str = "", by: str = "") -> dict[str, str]:
    return {"status": status, "reason": reason, "at": timezone.now().isoformat(), "by": by}


def _append_history(template: MessageTemplate, entry: dict[str, str]) -> None:
    template.status_history = [*(template.status_history or []), entry][-HISTORY_LIMIT:]


def _refused(exc: CloudApiError, what: str) -> ActionError:
    message = exc.message or exc.reason
    if "already" in message.lower() and "content" in message.lower():
        return Conflict(
            f"Meta already has a template with this name and language: {message}",
            code="duplicate",
            field="name",
        )
    if exc.code == 190:
        return ActionError(exc.reason, code="channel_token", field="channel_id")
    return ActionError(f"Meta refused to {what} the template: {message}", code="meta_refused")


def _require_active(channel: Channel) -> None:
    if channel.status != Channel.Status.ACTIVE:
        raise ActionError(
            "This channel is disabled: enable it (Channels) before submitting templates.",
            code="channel_disabled",
            field="channel_id",
        )


@transaction.atomic
def do_create_template(*, actor: Actor, channel: Channel, spec: TemplateSpec) -> MessageTemplate:
    """Check the template against Meta's rules, submit it for review (it comes
    back PENDING) and keep it with Meta's id."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    spec = spec.normalized()
    specs.require_valid(spec)
    _require_active(channel)
    if MessageTemplate.objects.filter(
        workspace=actor.workspace,
        channel__waba_id=channel.waba_id,
        name=spec.name,
        language=spec.language,
    ).exists():
        raise Conflict(
            f"There is already a template {spec.name} in {spec.language} for this business "
            "account: edit it, or pick another name or language.",
            code="duplicate",
            field="name",
        )
    request = specs.create_request(spec)
    try:
        answer = cloud.request(
            "POST", credentials(channel), f"{channel.waba_id}/message_templates", json=request
        )
    except CloudApiError as exc:
        raise _refused(exc, "accept") from exc
    now = timezone.now()
    status = str(answer.get("status") or "PENDING").upper()
    template = MessageTemplate(
        workspace=actor.workspace,
        channel=channel,
        meta_id=str(answer.get("id") or ""),
        name=spec.name,
        language=spec.language,
        category=str(answer.get("category") or spec.category).upper(),
        status=status,
        components=request["components"],
        parameter_format=request["parameter_format"],
        submitted_at=now,
        submitted_by=actor.user,
        updated_at=now,
        synced_at=now,
    )
    _append_history(template, history_entry(status, "Submitted for review", actor.display_name))
    template.save()
    record(actor, "template.submitted", f"{spec.name} ({spec.language})")
    return template


@transaction.atomic
def do_edit_template(
    *, actor: Actor, template: MessageTemplate, spec: TemplateSpec
) -> MessageTemplate:
    """Meta's edit: new components (and category, unless approved) for the same
    name and language; the template goes back to review."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    spec = spec.normalized()
    if spec.name != template.name or spec.language != template.language:
        raise ActionError(
            "The name and language of a submitted template cannot change: create a new "
            "template instead.",
            code="immutable",
            field="name" if spec.name != template.name else "language",
        )
    specs.require_valid(spec)
    if template.status not in EDITABLE:
        raise ActionError(
            f"Only approved, rejected or paused templates can be edited; this one is "
            f"{template.status.lower()}.",
            code="not_editable",
        )
    if not template.meta_id:
        raise ActionError(
            "This template has no Meta id yet: sync the channel's templates first.",
            code="not_submitted",
        )
    if spec.category != template.category and template.status == "APPROVED":
        raise ActionError(
            "The category of an approved template cannot change: create a new template.",
            code="immutable",
            field="category",
        )
    _require_active(template.channel)
    request: dict[str, Any] = {"components": specs.components(spec)}
    if spec.category != template.category:
        request["category"] = spec.category
    if spec.parameter_format != template.parameter_format:
        request["parameter_format"] = spec.parameter_format
    try:
        cloud.request("POST", credentials(template.channel), template.meta_id, json=request)
    except CloudApiError as exc:
        raise _refused(exc, "accept the changes to") from exc
    now = timezone.now()
    template.components = request["components"]
    template.category = spec.category
    template.parameter_format = spec.parameter_format
    template.status = "PENDING"
    template.rejected_reason = ""
    template.submitted_at = now
    template.submitted_by = actor.user
    template.updated_at = now
    _append_history(
        template, history_entry("PENDING", "Edited and resubmitted", actor.display_name)
    )
    template.save(
        update_fields=[
            "components",
            "category",
            "parameter_format",
            "status",
            "rejected_reason",
            "submitted_at",
            "submitted_by",
            "updated_at",
            "status_history",
        ]
    )
    record(actor, "template.edited", f"{template.name} ({template.language})")
    return template


@transaction.atomic
def do_delete_template(*, actor: Actor, template: MessageTemplate) -> None:
    """Delete this language of the template at Meta (by its id, so other
    languages of the same name stay), then here."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    params = {"name": template.name}
    if template.meta_id:
        params["hsm_id"] = template.meta_id
    try:
        cloud.request(
            "DELETE",
            credentials(template.channel),
            f"{template.channel.waba_id}/message_templates",
            params=params,
        )
    except CloudApiError as exc:
        # Gone at Meta already (deleted in WhatsApp Manager): forget it here too.
        if "not found" not in exc.message.lower() and "does not exist" not in exc.message.lower():
            raise _refused(exc, "delete") from exc
    label = f"{template.name} ({template.language})"
    template.delete()
    record(actor, "template.deleted", label)


@transaction.atomic
def do_sync_now(*, actor: Actor, channels: list[Channel]) -> int:
    """Fetch the templates of these channels from Meta again (in jobs)."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    for channel in channels:
        do_sync_templates(actor=actor, channel=channel)
    return len(channels)
