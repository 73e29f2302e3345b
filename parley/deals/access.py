"""Every fetch by id of pipelines, stages and deals, scoped to the actor's workspace."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from parley.core.errors import ActionError
from parley.deals.models import Deal, DealStatus, Pipeline, Stage
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap


def access_pipeline(actor: Actor, pipeline_id: int) -> Pipeline:
    actor.require(Cap.CONTACTS_READ)
    pipeline = Pipeline.objects.filter(workspace=actor.workspace, id=pipeline_id).first()
    if pipeline is None:
        raise Http404("No such pipeline.")
    return pipeline


def access_stage(actor: Actor, stage_id: int) -> Stage:
    actor.require(Cap.CONTACTS_READ)
    stage = (
        Stage.objects.select_related("pipeline")
        .filter(workspace=actor.workspace, id=stage_id)
        .first()
    )
    if stage is None:
        raise Http404("No such stage.")
    return stage


def access_deal(actor: Actor, deal_id: int) -> Deal:
    actor.require(Cap.CONTACTS_READ)
    deal = (
        Deal.objects.select_related("pipeline", "stage", "contact", "owner", "created_by")
        .filter(workspace=actor.workspace, id=deal_id)
        .first()
    )
    if deal is None:
        raise Http404("No such deal.")
    return deal


def pipelines(actor: Actor) -> QuerySet[Pipeline]:
    actor.require(Cap.CONTACTS_READ)
    return Pipeline.objects.filter(workspace=actor.workspace).order_by("position", "id")


def deal_list(
    actor: Actor,
    *,
    pipeline_id: int | None = None,
    stage_id: int | None = None,
    status: str | None = None,
    owner_id: int | None = None,
    contact_id: int | None = None,
) -> QuerySet[Deal]:
    """Deals matching every given filter; ids of other workspaces match nothing."""
    actor.require(Cap.CONTACTS_READ)
    qs = Deal.objects.filter(workspace=actor.workspace)
    if status:
        if status not in DealStatus.values:
            raise ActionError(
                f"status is one of {', '.join(DealStatus.values)}.",
                code="invalid_status",
                field="status",
            )
        qs = qs.filter(status=status)
    if pipeline_id is not None:
        qs = qs.filter(pipeline_id=pipeline_id)
    if stage_id is not None:
        qs = qs.filter(stage_id=stage_id)
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if contact_id is not None:
        qs = qs.filter(contact_id=contact_id)
    return qs
