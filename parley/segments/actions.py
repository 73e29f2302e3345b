"""Every state change of segments."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from parley.core.errors import ActionError, Conflict
from parley.segments.definition import Definition
from parley.segments.models import Segment
from parley.segments.validation import validate_definition
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap

MAX_SEGMENTS = 1000


def _name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ActionError("Name the segment.", code="required", field="name")
    if len(name) > 100:
        raise ActionError(
            "A segment name has at most 100 characters.", code="too_long", field="name"
        )
    return name


def _description(description: str) -> str:
    description = description.strip()
    if len(description) > 500:
        raise ActionError(
            "A description has at most 500 characters.", code="too_long", field="description"
        )
    return description


def _save(actor: Actor, segment: Segment) -> Segment:
    clash = Segment.objects.filter(workspace=actor.workspace, name__iexact=segment.name)
    if segment.pk is not None:
        clash = clash.exclude(pk=segment.pk)
    duplicate = Conflict(
        f"There is a segment named {segment.name!r} already.", code="duplicate", field="name"
    )
    if clash.exists():
        raise duplicate
    try:
        with transaction.atomic():  # a concurrent save of the same name loses cleanly
            segment.save()
    except IntegrityError:
        raise duplicate from None
    return segment


@transaction.atomic
def do_create_segment(
    *,
    actor: Actor,
    name: str,
    definition: Definition | dict[str, Any],
    description: str = "",
) -> Segment:
    actor.require(Cap.CONTACTS_WRITE)
    segment = Segment(
        workspace=actor.workspace,
        name=_name(name),
        description=_description(description),
        definition=validate_definition(actor.workspace.pk, definition).as_json(),
        created_by=actor.user,
    )
    if Segment.objects.filter(workspace=actor.workspace).count() >= MAX_SEGMENTS:
        raise ActionError(
            f"A workspace has at most {MAX_SEGMENTS:,} segments; delete unused ones first.",
            code="too_many",
        )
    return _save(actor, segment)


@transaction.atomic
def do_update_segment(
    *,
    actor: Actor,
    segment: Segment,
    name: str | None = None,
    description: str | None = None,
    definition: Definition | dict[str, Any] | None = None,
) -> Segment:
    actor.require(Cap.CONTACTS_WRITE)
    if name is not None:
        segment.name = _name(name)
    if description is not None:
        segment.description = _description(description)
    if definition is not None:
        segment.definition = validate_definition(actor.workspace.pk, definition).as_json()
    segment.updated_at = timezone.now()
    return _save(actor, segment)


@transaction.atomic
def do_delete_segment(*, actor: Actor, segment: Segment) -> None:
    actor.require(Cap.CONTACTS_WRITE)
    segment.delete()
