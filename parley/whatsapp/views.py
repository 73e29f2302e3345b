"""Channel pages (admins): connect, test, rotate secrets, disable, delete."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.tenancy.web import apply_action, flash_action, workspace_view
from parley.whatsapp import actions
from parley.whatsapp.access import access_channel
from parley.whatsapp.forms import ConnectForm, DeleteForm, SecretsForm
from parley.whatsapp.models import Channel, MessageTemplate


@workspace_view(Cap.WORKSPACE_MANAGE)
def channels(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = ConnectForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        channel = apply_action(
            form, lambda: actions.do_connect_channel(actor=actor, **form.cleaned_data)
        )
        if channel is not None:
            messages.success(
                request,
                f"{channel.name} connected. Paste its webhook URL and verify token into Meta.",
            )
            return redirect("channel_detail", slug=actor.workspace.slug, channel_id=channel.pk)
    rows = Channel.objects.filter(workspace=actor.workspace).order_by("id")
    return render(request, "whatsapp/channels.html", {"form": form, "channels": rows})


@workspace_view(Cap.WORKSPACE_MANAGE)
def channel_detail(request: HttpRequest, actor: Actor, channel_id: int) -> HttpResponse:
    channel = access_channel(actor, channel_id)
    secrets_form = SecretsForm()
    delete_form = DeleteForm()
    if request.method == "POST":
        op = request.POST.get("op")
        if op == "sync":
            actions.do_sync_templates(actor=actor, channel=channel)
            messages.success(request, "Fetching the templates from WhatsApp: reload in a moment.")
            return redirect("channel_detail", slug=actor.workspace.slug, channel_id=channel.pk)
        if op == "test":
            channel = actions.do_test_channel(actor=actor, channel=channel)
            (messages.success if channel.last_test_ok else messages.error)(
                request, channel.last_test_detail
            )
        elif op == "secrets":
            secrets_form = SecretsForm(request.POST)
            if secrets_form.is_valid() and apply_action(
                secrets_form,
                lambda: actions.do_rotate_channel_secrets(
                    actor=actor, channel=channel, **secrets_form.cleaned_data
                ),
            ):
                messages.success(request, "Secrets replaced.")
                return redirect("channel_detail", slug=actor.workspace.slug, channel_id=channel.pk)
        elif op in ("enable", "disable"):
            flash_action(
                request,
                lambda: actions.do_set_channel_status(
                    actor=actor, channel=channel, active=op == "enable"
                ),
                f"{channel.name} {op}d.",
            )
            return redirect("channel_detail", slug=actor.workspace.slug, channel_id=channel.pk)
        elif op == "delete":
            done = flash_action(
                request,
                lambda: (
                    actions.do_delete_channel(
                        actor=actor, channel=channel, confirm=request.POST.get("confirm", "")
                    )
                    or True
                ),
                f"{channel.name} deleted.",
            )
            if done:
                return redirect("channels", slug=actor.workspace.slug)
    return render(
        request,
        "whatsapp/channel_detail.html",
        {
            "channel": channel,
            "webhook_url": actions.webhook_url(channel),
            "secrets_form": secrets_form,
            "delete_form": delete_form,
            "templates": MessageTemplate.objects.filter(
                workspace=actor.workspace, channel=channel
            ).order_by("name", "language"),
        },
    )
