"""Segments over the API: CRUD, preview, members and their count. Thin."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from parley.core.pagination import paginate
from parley.crm.schemas import ContactPage
from parley.segments import access, actions
from parley.segments.compiler import contacts_matching, count_matching
from parley.segments.schemas import (
    CountOut,
    DefinitionIn,
    PreviewIn,
    PreviewOut,
    SegmentIn,
    SegmentOut,
    SegmentPage,
    SegmentUpdateIn,
)
from parley.segments.validation import validate_definition
from parley.tenancy.actor import actor_of
from parley.tenancy.roles import Cap

router = Router(tags=["segments"])

SAMPLE = 10


def _raw(definition: DefinitionIn) -> dict[str, Any]:
    # Unset keys stay out, so the definition's own checks name what is missing.
    return definition.model_dump(exclude_unset=True)


@router.get("/segments", response=SegmentPage, summary="List segments")
def list_segments(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> Any:
    return paginate(access.segment_list(actor_of(request)), cursor=cursor, limit=limit)


@router.post("/segments", response={201: SegmentOut}, summary="Create a segment")
def create_segment(request: HttpRequest, payload: SegmentIn) -> Any:
    segment = actions.do_create_segment(
        actor=actor_of(request),
        name=payload.name,
        description=payload.description,
        definition=_raw(payload.definition),
    )
    return Status(201, segment)


@router.post(
    "/segments/preview",
    response=PreviewOut,
    summary="Count and sample the contacts a definition matches, without saving it",
)
def preview_segment(request: HttpRequest, payload: PreviewIn) -> Any:
    actor = actor_of(request)
    actor.require(Cap.CONTACTS_READ)
    definition = validate_definition(actor.workspace.pk, _raw(payload.definition))
    matching = contacts_matching(actor.workspace.pk, definition)
    sample = list(matching.prefetch_related("contact_tags__tag").order_by("-id")[:SAMPLE])
    return {"count": matching.count(), "sample": sample}


@router.get("/segments/{segment_id}", response=SegmentOut, summary="Get a segment")
def get_segment(request: HttpRequest, segment_id: int) -> Any:
    return access.access_segment(actor_of(request), segment_id)


@router.patch("/segments/{segment_id}", response=SegmentOut, summary="Edit a segment")
def update_segment(request: HttpRequest, segment_id: int, payload: SegmentUpdateIn) -> Any:
    actor = actor_of(request)
    segment = access.access_segment(actor, segment_id)
    return actions.do_update_segment(
        actor=actor,
        segment=segment,
        name=payload.name,
        description=payload.description,
        definition=_raw(payload.definition) if payload.definition is not None else None,
    )


@router.delete("/segments/{segment_id}", response={204: None}, summary="Delete a segment")
def delete_segment(request: HttpRequest, segment_id: int) -> Any:
    actor = actor_of(request)
    actions.do_delete_segment(actor=actor, segment=access.access_segment(actor, segment_id))
    return Status(204, None)


@router.get(
    "/segments/{segment_id}/contacts",
    response=ContactPage,
    summary="The contacts in a segment now (cursor-paginated, by id)",
)
def segment_contacts(
    request: HttpRequest, segment_id: int, cursor: str | None = None, limit: int = 50
) -> Any:
    actor = actor_of(request)
    segment = access.access_segment(actor, segment_id)
    matching = contacts_matching(actor.workspace.pk, segment.definition)
    return paginate(matching.prefetch_related("contact_tags__tag"), cursor=cursor, limit=limit)


@router.get(
    "/segments/{segment_id}/count",
    response=CountOut,
    summary="How many contacts a segment holds now",
)
def segment_count(request: HttpRequest, segment_id: int) -> Any:
    actor = actor_of(request)
    segment = access.access_segment(actor, segment_id)
    return {"count": count_matching(actor.workspace.pk, segment.definition)}
