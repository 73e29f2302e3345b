"""Point Django at the bench database before anything imports settings."""

from __future__ import annotations

import os


def setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def make_channel_tenant(name: str) -> tuple[int, str, str, str]:
    """A workspace with an owner and a channel; returns
    (workspace id, webhook key, phone number id, app secret)."""
    from parley.accounts.models import User
    from parley.core.tenant import workspace_context
    from parley.tenancy.actions import do_create_workspace
    from parley.tenancy.actor import Actor
    from parley.whatsapp.actions import do_connect_channel

    owner = User.objects.create_user(f"owner@{name.lower()}.bench", "bench-password-123")
    workspace = do_create_workspace(owner=owner, name=name)
    secret = f"secret-{name}-0123456789"
    with workspace_context(workspace.pk):
        channel = do_connect_channel(
            actor=Actor(workspace=workspace, role="owner", user=owner),
            name="Bench line",
            phone_number_id=f"9{workspace.pk:09d}",
            waba_id=f"8{workspace.pk:09d}",
            access_token="bench-token-0123456789",
            app_secret=secret,
        )
    return workspace.pk, channel.webhook_key, channel.phone_number_id, secret
