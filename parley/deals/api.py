"""Pipelines, stages, deals and the CRM dashboard over the API. Thin."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Router, Status

from parley.core.pagination import paginate
from parley.crm.access import access_contact
from parley.deals import access, actions, pipelines
from parley.deals.dashboard import summary
from parley.deals.models import DealEvent, Pipeline, Stage
from parley.deals.schemas import (
    DashboardOut,
    DealEventOut,
    DealIn,
    DealOut,
    DealPage,
    DealUpdateIn,
    LostIn,
    MoveIn,
    PipelineIn,
    PipelineOut,
    PipelineUpdateIn,
    StageIn,
    StageOrderIn,
    StageOut,
    StageUpdateIn,
)
from parley.tenancy.actor import Actor, actor_of
from parley.tenancy.roles import Cap

router = Router(tags=["deals"])


def _with_stages(actor: Actor, pipeline_id: int) -> Pipeline:
    return (
        Pipeline.objects.filter(workspace=actor.workspace, pk=pipeline_id)
        .prefetch_related(Prefetch("stages", queryset=Stage.objects.order_by("position", "id")))
        .get()
    )


@router.get("/pipelines", response=list[PipelineOut], summary="List pipelines with their stages")
def list_pipelines(request: HttpRequest) -> Any:
    actor = actor_of(request)
    actor.require(Cap.CONTACTS_READ)
    pipelines.ensure_pipeline(actor.workspace.pk)
    return list(access.pipelines(actor).prefetch_related("stages")[:100])


@router.post("/pipelines", response={201: PipelineOut}, summary="Create a pipeline (admins)")
def create_pipeline(request: HttpRequest, payload: PipelineIn) -> Any:
    actor = actor_of(request)
    pipeline = pipelines.do_create_pipeline(actor=actor, name=payload.name, stages=payload.stages)
    return Status(201, _with_stages(actor, pipeline.pk))


@router.get("/pipelines/{pipeline_id}", response=PipelineOut, summary="Get a pipeline")
def get_pipeline(request: HttpRequest, pipeline_id: int) -> Any:
    actor = actor_of(request)
    return _with_stages(actor, access.access_pipeline(actor, pipeline_id).pk)


@router.patch(
    "/pipelines/{pipeline_id}", response=PipelineOut, summary="Rename a pipeline (admins)"
)
def update_pipeline(request: HttpRequest, pipeline_id: int, payload: PipelineUpdateIn) -> Any:
    actor = actor_of(request)
    pipeline = access.access_pipeline(actor, pipeline_id)
    pipelines.do_rename_pipeline(actor=actor, pipeline=pipeline, name=payload.name)
    return _with_stages(actor, pipeline.pk)


@router.delete(
    "/pipelines/{pipeline_id}",
    response={204: None},
    summary="Delete an empty pipeline (admins)",
)
def delete_pipeline(request: HttpRequest, pipeline_id: int) -> Any:
    actor = actor_of(request)
    pipelines.do_delete_pipeline(actor=actor, pipeline=access.access_pipeline(actor, pipeline_id))
    return Status(204, None)


@router.post(
    "/pipelines/{pipeline_id}/stages",
    response={201: StageOut},
    summary="Add a stage at the end (admins)",
)
def add_stage(request: HttpRequest, pipeline_id: int, payload: StageIn) -> Any:
    actor = actor_of(request)
    pipeline = access.access_pipeline(actor, pipeline_id)
    stage = pipelines.do_add_stage(
        actor=actor, pipeline=pipeline, name=payload.name, probability=payload.probability
    )
    return Status(201, stage)


@router.post(
    "/pipelines/{pipeline_id}/stages/order",
    response=PipelineOut,
    summary="Reorder the stages (admins)",
)
def reorder_stages(request: HttpRequest, pipeline_id: int, payload: StageOrderIn) -> Any:
    actor = actor_of(request)
    pipeline = access.access_pipeline(actor, pipeline_id)
    pipelines.do_reorder_stages(actor=actor, pipeline=pipeline, stage_ids=payload.stage_ids)
    return _with_stages(actor, pipeline.pk)


@router.patch(
    "/stages/{stage_id}", response=StageOut, summary="Rename a stage or set its probability"
)
def update_stage(request: HttpRequest, stage_id: int, payload: StageUpdateIn) -> Any:
    actor = actor_of(request)
    stage = access.access_stage(actor, stage_id)
    probability = (
        payload.probability if "probability" in payload.model_fields_set else stage.probability
    )
    return pipelines.do_update_stage(
        actor=actor, stage=stage, name=payload.name, probability=probability
    )


@router.delete(
    "/stages/{stage_id}",
    response={204: None},
    summary="Delete a stage (its deals move to move_to, or it must be empty)",
)
def delete_stage(request: HttpRequest, stage_id: int, move_to: int | None = None) -> Any:
    actor = actor_of(request)
    stage = access.access_stage(actor, stage_id)
    target = access.access_stage(actor, move_to) if move_to is not None else None
    pipelines.do_delete_stage(actor=actor, stage=stage, move_to=target)
    return Status(204, None)


@router.get("/deals", response=DealPage, summary="List deals")
def list_deals(
    request: HttpRequest,
    pipeline_id: int | None = None,
    stage_id: int | None = None,
    status: str | None = None,
    owner_id: int | None = None,
    contact_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Any:
    qs = access.deal_list(
        actor_of(request),
        pipeline_id=pipeline_id,
        stage_id=stage_id,
        status=status,
        owner_id=owner_id,
        contact_id=contact_id,
    ).select_related("stage", "contact")
    return paginate(qs, cursor=cursor, limit=limit)


@router.post("/deals", response={201: DealOut}, summary="Create a deal")
def create_deal(request: HttpRequest, payload: DealIn) -> Any:
    actor = actor_of(request)
    pipeline = access.access_pipeline(actor, payload.pipeline_id) if payload.pipeline_id else None
    stage = access.access_stage(actor, payload.stage_id) if payload.stage_id else None
    contact = access_contact(actor, payload.contact_id) if payload.contact_id else None
    deal = actions.do_create_deal(
        actor=actor,
        title=payload.title,
        pipeline=pipeline,
        stage=stage,
        contact=contact,
        value=payload.value,
        currency=payload.currency,
        owner_id=payload.owner_id,
        expected_close_date=payload.expected_close_date,
    )
    return Status(201, access.access_deal(actor, deal.pk))


@router.get("/deals/{deal_id}", response=DealOut, summary="Get a deal")
def get_deal(request: HttpRequest, deal_id: int) -> Any:
    return access.access_deal(actor_of(request), deal_id)


@router.patch("/deals/{deal_id}", response=DealOut, summary="Edit a deal")
def update_deal(request: HttpRequest, deal_id: int, payload: DealUpdateIn) -> Any:
    actor = actor_of(request)
    deal = access.access_deal(actor, deal_id)
    sent = payload.model_fields_set
    changes: dict[str, Any] = {}
    if "title" in sent and payload.title is not None:
        changes["title"] = payload.title
    if "contact_id" in sent:
        changes["contact"] = (
            access_contact(actor, payload.contact_id) if payload.contact_id else None
        )
    if "value" in sent and payload.value is not None:
        changes["value"] = payload.value
    if "currency" in sent and payload.currency is not None:
        changes["currency"] = payload.currency
    if "owner_id" in sent:
        changes["owner_id"] = payload.owner_id
    if "expected_close_date" in sent:
        changes["expected_close_date"] = payload.expected_close_date
    actions.do_update_deal(actor=actor, deal=deal, **changes)
    return access.access_deal(actor, deal.pk)


@router.delete("/deals/{deal_id}", response={204: None}, summary="Delete a deal")
def delete_deal(request: HttpRequest, deal_id: int) -> Any:
    actor = actor_of(request)
    actions.do_delete_deal(actor=actor, deal=access.access_deal(actor, deal_id))
    return Status(204, None)


@router.post(
    "/deals/{deal_id}/move", response=DealOut, summary="Move a deal to a stage and position"
)
def move_deal(request: HttpRequest, deal_id: int, payload: MoveIn) -> Any:
    actor = actor_of(request)
    deal = access.access_deal(actor, deal_id)
    stage = access.access_stage(actor, payload.stage_id)
    actions.do_move_deal(actor=actor, deal=deal, stage=stage, position=payload.position)
    return access.access_deal(actor, deal.pk)


@router.post("/deals/{deal_id}/won", response=DealOut, summary="Mark a deal won")
def won_deal(request: HttpRequest, deal_id: int) -> Any:
    actor = actor_of(request)
    return actions.do_mark_won(actor=actor, deal=access.access_deal(actor, deal_id))


@router.post("/deals/{deal_id}/lost", response=DealOut, summary="Mark a deal lost, with a reason")
def lost_deal(request: HttpRequest, deal_id: int, payload: LostIn) -> Any:
    actor = actor_of(request)
    deal = access.access_deal(actor, deal_id)
    return actions.do_mark_lost(actor=actor, deal=deal, reason=payload.reason)


@router.post("/deals/{deal_id}/reopen", response=DealOut, summary="Reopen a won or lost deal")
def reopen_deal(request: HttpRequest, deal_id: int) -> Any:
    actor = actor_of(request)
    return actions.do_reopen_deal(actor=actor, deal=access.access_deal(actor, deal_id))


@router.get(
    "/deals/{deal_id}/history",
    response=list[DealEventOut],
    summary="A deal's history, newest first",
)
def deal_events(request: HttpRequest, deal_id: int) -> Any:
    actor = actor_of(request)
    deal = access.access_deal(actor, deal_id)
    return list(
        DealEvent.objects.filter(workspace=actor.workspace, deal=deal).order_by("-at", "-id")[:500]
    )


@router.get("/crm/dashboard", response=DashboardOut, summary="CRM dashboard figures")
def dashboard(request: HttpRequest, pipeline_id: int | None = None) -> Any:
    actor = actor_of(request)
    if pipeline_id is not None:
        pipeline = access.access_pipeline(actor, pipeline_id)
    else:
        actor.require(Cap.CONTACTS_READ)
        pipeline = pipelines.ensure_pipeline(actor.workspace.pk)
    s = summary(actor, pipeline)

    def closed(c: Any) -> dict[str, Any]:
        return {"count": c.count, "totals": [vars(m) for m in c.totals]}

    return {
        "pipeline_id": pipeline.pk,
        "stages": [
            {
                "stage_id": bar.stage.pk,
                "name": bar.stage.name,
                "count": bar.count,
                "totals": [vars(m) for m in bar.totals],
            }
            for bar in s.stages
        ],
        "won_this_month": closed(s.won_this_month),
        "won_last_month": closed(s.won_last_month),
        "lost_this_month": closed(s.lost_this_month),
        "lost_last_month": closed(s.lost_last_month),
        "new_contacts": [{"day": d.day, "count": d.count} for d in s.new_contacts],
        "extra": s.extra,
    }
