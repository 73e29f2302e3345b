"""Every fetch of a segment by id, scoped to the actor's workspace."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from parley.segments.models import Segment
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap


def access_segment(actor: Actor, segment_id: int) -> Segment:
    actor.require(Cap.CONTACTS_READ)
    segment = Segment.objects.filter(workspace=actor.workspace, id=segment_id).first()
    if segment is None:
        raise Http404("No such segment.")
    return segment


def segment_list(actor: Actor) -> QuerySet[Segment]:
    actor.require(Cap.CONTACTS_READ)
    return Segment.objects.filter(workspace=actor.workspace)
