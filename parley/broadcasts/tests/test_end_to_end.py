"""A broadcast through the real dispatcher and the Cloud API simulator: a CSV
audience's per-recipient values reach the customers, and the broadcast
completes by itself (the outbox's on_finished hook)."""

from __future__ import annotations

from typing import Any

import pytest

from parley.broadcasts import actions
from parley.broadcasts.models import AudienceKind, Broadcast, Status
from parley.core.tenant import workspace_context
from parley.outbox.dispatch import dispatch
from parley.outbox.tests.helpers import approved_template, connect
from parley.whatsapp.simulator.server import SimulatorHandle
from tests.factories import actor_for, make_tenant

from .helpers import csv_bytes, upload

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_csv_broadcast_is_sent_and_completes(sim: SimulatorHandle, settings: Any) -> None:
    settings.WHATSAPP_GRAPH_URL = sim.graph_url
    tenant = make_tenant("Alpha")
    channel = connect(tenant, sim, cap=50)
    template = approved_template(tenant, sim, channel)
    rows = [["name", "phone", "code"]] + [
        [f"Person {n}", f"+1 415 555 {n:04d}", f"CODE{n}"] for n in range(30)
    ]
    ws = tenant.workspace
    with workspace_context(ws.pk):
        admin = actor_for(ws, tenant.admin)
        broadcast = actions.do_create_broadcast(
            actor=admin,
            name="Codes",
            channel_id=channel.pk,
            template_id=template.pk,
            audience_kind=AudienceKind.CSV,
        )
        broadcast = actions.do_upload_audience_csv(
            actor=admin, broadcast=broadcast, upload=upload(csv_bytes(rows))
        )
        broadcast = actions.do_update_broadcast(
            actor=admin,
            broadcast=broadcast,
            mapping={
                "1": {"source": "column", "column": "name", "fallback": "there"},
                "2": {"source": "column", "column": "code", "fallback": ""},
            },
        )
        actions.do_start_broadcast(actor=admin, broadcast=broadcast)
    assert broadcast.csv_phone_column == "phone"
    for _ in range(20):
        run = dispatch(workspace_id=ws.pk, channel_id=channel.pk, slice_seconds=30)
        if not run.more:
            break
    sent = sim.control.messages(channel.phone_number_id)
    assert len(sent) == 30
    texts = {m["to"]: m["text"] for m in sent}
    # BODY is "Hello {{1}}, your code is {{2}}.": both from the recipient's row.
    assert texts["14155550007"] == "Hello Person 7, your code is CODE7."
    with workspace_context(ws.pk):
        done = Broadcast.objects.get(pk=broadcast.pk)
    assert done.status == Status.COMPLETED and done.finished_at is not None
    assert done.audience_size == 30
