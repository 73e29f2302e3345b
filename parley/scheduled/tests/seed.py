"""Rows of this app in a workspace, for the outsider walk: {route parameter: value}."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests.factories import Tenant


def seed(tenant: Tenant) -> dict[str, str]:
    from parley.scheduled.tests.helpers import make_world, schedule

    world = make_world(tenant, None, wa_id="4915199990001")
    scheduled = schedule(world, timezone.now() + timedelta(days=2), text="Outsider probe")
    return {"scheduled_id": str(scheduled.pk)}
