"""Create the demo workspace and its login, idempotently."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from parley.accounts.models import User
from parley.core.tenant import activate_user
from parley.tenancy.access import user_memberships
from parley.tenancy.actions import do_create_workspace

DEMO_EMAIL = "demo@parley.localhost"
DEMO_PASSWORD = "parley-demo-2026"  # noqa: S105  (printed for newcomers)
DEMO_WORKSPACE = "Demo Shop"


class Command(BaseCommand):
    help = "Create (once) the demo workspace and print its login."

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
            if not memberships:
                workspace = do_create_workspace(owner=user, name=DEMO_WORKSPACE)
                user.last_workspace_id = workspace.pk
                user.save(update_fields=["last_workspace_id"])
        self.stdout.write(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")
