"""Create (once) the demo workspace and login; with --simulator, connect its
WhatsApp number to the Cloud API simulator and have a customer say hello."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from parley.accounts.models import User
from parley.core.crypto import decrypt
from parley.core.tenant import activate_user, workspace_context
from parley.inbox.models import Conversation
from parley.ops.demo_automation import seed_demo_automation
from parley.ops.demo_crm import seed_demo_crm
from parley.tenancy.access import user_memberships
from parley.tenancy.actions import do_create_workspace
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Role
from parley.whatsapp.actions import do_connect_channel, do_sync_templates, webhook_url
from parley.whatsapp.models import Channel

DEMO_EMAIL = "demo@parley.localhost"
DEMO_PASSWORD = "parley-demo-2026"  # noqa: S105  (printed for newcomers)
DEMO_WORKSPACE = "Demo Shop"
DEMO_NUMBER_ID = "100000000000001"
DEMO_CUSTOMER = "15550001234"


class Command(BaseCommand):
    help = "Create (once) the demo workspace and print its login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--simulator", default="", help="Cloud API simulator URL to connect")

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            user = User.objects.filter(email=DEMO_EMAIL).first()
            if user is None:
                # The demo owner doubles as the operator, to show the console.
                user = User.objects.create_user(
                    DEMO_EMAIL, DEMO_PASSWORD, name="Demo Owner", is_staff=True
                )
            activate_user(user.pk)
            memberships = user_memberships(user)
            if memberships:
                workspace = memberships[0].workspace
            else:
                workspace = do_create_workspace(owner=user, name=DEMO_WORKSPACE)
                user.last_workspace_id = workspace.pk
                user.save(update_fields=["last_workspace_id"])
        with workspace_context(workspace.pk):
            seed_demo_crm(Actor(workspace=workspace, role=Role.OWNER, user=user))
            seed_demo_automation(Actor(workspace=workspace, role=Role.OWNER, user=user))
        if options["simulator"]:
            self._connect_simulator(options["simulator"], workspace.pk, user)
        self.stdout.write(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")

    def _connect_simulator(self, url: str, workspace_id: int, user: User) -> None:
        from parley.tenancy.models import Workspace
        from parley.whatsapp.simulator.client import SimulatorClient

        with workspace_context(workspace_id):
            workspace = Workspace.objects.get(pk=workspace_id)
            actor = Actor(workspace=workspace, role=Role.OWNER, user=user)
            channel = Channel.objects.filter(
                workspace=workspace, phone_number_id=DEMO_NUMBER_ID
            ).first()
            fresh = channel is None
            if channel is None:
                channel = do_connect_channel(
                    actor=actor,
                    name="Demo line",
                    phone_number_id=DEMO_NUMBER_ID,
                    waba_id="200000000000001",
                    access_token="demo-access-token-0001",  # noqa: S106  (simulator only)
                    app_secret="demo-app-secret-0001",  # noqa: S106
                    display_phone_number="+1 555 010 0001",
                )
            token, secret = decrypt(channel.access_token_enc), decrypt(channel.app_secret_enc)
            hook = webhook_url(channel)
            # The simulator keeps no state across restarts: tell it which
            # customers wrote in the last 24 hours, so their windows are open.
            windows = [
                (c.contact.wa_id, c.last_inbound_at.timestamp())
                for c in Conversation.objects.select_related("contact").filter(
                    workspace=workspace,
                    channel=channel,
                    last_inbound_at__gte=timezone.now() - timedelta(hours=24),
                )
                if c.last_inbound_at is not None
            ]
        with SimulatorClient(url) as sim:
            sim.register_number(
                DEMO_NUMBER_ID,
                access_token=token,
                app_secret=secret,
                webhook_url=hook,
                waba_id=channel.waba_id,
                display_phone_number=channel.display_phone_number,
                verified_name="Demo Shop",
            )
            sim.seed_template(
                channel.waba_id, "order_update", body="Hi {{1}}, your order {{2}} has shipped."
            )
            for wa_id, at in windows:
                sim.open_window(DEMO_NUMBER_ID, wa_id, last_inbound_at=at)
            if fresh:
                sim.inbound(
                    DEMO_NUMBER_ID,
                    DEMO_CUSTOMER,
                    name="Ada (demo customer)",
                    text={"body": "Hi! Is my order on its way?"},
                )
        with workspace_context(workspace_id):
            # The simulator knows the demo's templates now: fetch them.
            do_sync_templates(actor=actor, channel=channel)
        self.stdout.write(f"Demo number connected to the simulator at {url} ({settings.BASE_URL})")
