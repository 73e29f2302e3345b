"""Building drip sequences for tests through the real actions, and running
what the outbox dispatcher and the job workers would."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.crm.models import Contact, Tag
from parley.drips import actions
from parley.drips.hooks import on_finished, precheck
from parley.drips.models import Enrolment, Sequence, Step
from parley.outbox.hooks import Finished, PrecheckItem
from parley.outbox.models import OutboundItem
from parley.tenancy.actor import Actor
from parley.whatsapp.models import Channel, MessageTemplate
from tests.factories import Tenant, actor_for, make_channel

MAPPING = {"1": {"source": "field", "field": "first_name", "fallback": "there"}}


def owner(tenant: Tenant) -> Actor:
    return actor_for(tenant.workspace, tenant.owner)


def approved_template(tenant: Tenant, channel: Channel, name: str = "welcome") -> MessageTemplate:
    with workspace_context(tenant.workspace.pk):
        return MessageTemplate.objects.create(
            workspace=tenant.workspace,
            channel=channel,
            name=name,
            language="en_US",
            category="MARKETING",
            status="APPROVED",
            components=[{"type": "BODY", "text": "Hi {{1}}, welcome!"}],
        )


def make_sequence(
    tenant: Tenant,
    *,
    channel: Channel | None = None,
    steps: list[dict[str, Any]] | None = None,
    activate: bool = True,
    **fields: Any,
) -> Sequence:
    """A sequence with text steps (each a dict of StepFields values), active by default."""
    channel = channel or make_channel(tenant)
    actor = owner(tenant)
    with workspace_context(tenant.workspace.pk):
        sequence = actions.do_create_sequence(
            actor=actor,
            fields=actions.SequenceFields(
                name=fields.pop("name", "Welcome"), channel_id=channel.pk, **fields
            ),
        )
        for spec in steps if steps is not None else [{"text": "Hello!"}]:
            actions.do_save_step(
                actor=actor, sequence=sequence, step=None, fields=actions.StepFields(**spec)
            )
        if activate:
            actions.do_activate(actor=actor, sequence=sequence)
        sequence.refresh_from_db()
    return sequence


def contact(tenant: Tenant, wa_id: str, name: str = "", **extra: Any) -> Contact:
    with workspace_context(tenant.workspace.pk):
        return Contact.objects.create(
            workspace=tenant.workspace, wa_id=wa_id, name=name or f"C {wa_id[-4:]}", **extra
        )


def tag(tenant: Tenant, name: str) -> Tag:
    with workspace_context(tenant.workspace.pk):
        return Tag.objects.create(workspace=tenant.workspace, name=name)


def steps_of(tenant: Tenant, sequence: Sequence) -> list[Step]:
    with workspace_context(tenant.workspace.pk):
        return list(Step.objects.filter(sequence=sequence).order_by("position"))


def enrolments(tenant: Tenant, sequence: Sequence, **filters: Any) -> list[Enrolment]:
    with workspace_context(tenant.workspace.pk):
        return list(Enrolment.objects.filter(sequence=sequence, **filters).order_by("id"))


def items(tenant: Tenant, **filters: Any) -> list[OutboundItem]:
    with workspace_context(tenant.workspace.pk):
        return list(OutboundItem.objects.filter(source="drip", **filters).order_by("id"))


def run_drip_jobs() -> int:
    """Run the queued drips jobs in-process (what a worker would), oldest first."""
    from parley.drips.tasks import handle_event

    ran = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, task_name, args FROM procrastinate_jobs "
                "WHERE status = 'todo' AND task_name LIKE 'drips.%%' ORDER BY id LIMIT 1"
            )
            row = cursor.fetchone()
            if row is None:
                return ran
            cursor.execute("DELETE FROM procrastinate_jobs WHERE id = %s", [row[0]])
        assert row[1] == "drips.handle_event", row[1]
        args = json.loads(row[2]) if isinstance(row[2], str) else row[2]
        handle_event.func(**args)
        ran += 1


def queued_drip_jobs() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM procrastinate_jobs "
            "WHERE status = 'todo' AND task_name LIKE 'drips.%%'"
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def finish(
    tenant: Tenant, item: OutboundItem, state: str = "sent", at: datetime | None = None
) -> datetime:
    """What the dispatcher does when an item went out: set its final state,
    then tell drips through the hook."""
    at = at or timezone.now()
    with workspace_context(tenant.workspace.pk):
        OutboundItem.objects.filter(pk=item.pk).update(state=state, finished_at=at)
        on_finished(
            tenant.workspace.pk,
            [
                Finished(
                    item_id=item.pk,
                    source_id=item.source_id,
                    contact_id=item.contact_id,
                    state=state,
                    reason="",
                    finished_at=at,
                )
            ],
        )
    return at


def check(tenant: Tenant, *checked: OutboundItem) -> dict[int, str]:
    """The dispatcher's precheck, on items it claimed."""
    with workspace_context(tenant.workspace.pk):
        OutboundItem.objects.filter(pk__in=[i.pk for i in checked]).update(state="sending")
        return precheck(
            tenant.workspace.pk,
            [
                PrecheckItem(item_id=i.pk, source_id=i.source_id, contact_id=i.contact_id)
                for i in checked
            ],
        )
