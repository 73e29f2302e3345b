"""Rows of this app in a workspace, for the outsider walk: {route parameter: value}."""

from __future__ import annotations

from parley.core.tenant import workspace_context
from tests.factories import Tenant, actor_for, make_channel


def seed(tenant: Tenant) -> dict[str, str]:
    """A started broadcast to a tag (with a recipient, so every page has a row to leak)."""
    from parley.broadcasts.actions import do_create_broadcast, do_start_broadcast
    from parley.crm.models import Contact, ContactTag, Tag

    from .helpers import MAPPING, make_template

    channel = make_channel(tenant)
    template = make_template(channel, name="outsider_probe")
    ws = tenant.workspace
    with workspace_context(ws.pk):
        tag = Tag.objects.create(workspace=ws, name="Broadcast probe")
        contact = Contact.objects.create(
            workspace=ws, wa_id="447911999001", phone_e164="+447911999001", name="Probe Person"
        )
        ContactTag.objects.create(workspace=ws, contact=contact, tag=tag)
        actor = actor_for(ws, tenant.owner)
        broadcast = do_create_broadcast(
            actor=actor,
            name="Outsider probe",
            channel_id=channel.pk,
            template_id=template.pk,
            mapping=MAPPING,
            audience_kind="tags",
            tag_ids=[tag.pk],
        )
        do_start_broadcast(actor=actor, broadcast=broadcast)
    return {"broadcast_id": str(broadcast.pk)}
