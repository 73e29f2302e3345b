"""Every change to pipelines and their stages (admins), and the default pipeline."""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import Max

from parley.core.errors import ActionError, Conflict
from parley.deals.models import Deal, DealEvent, Pipeline, Stage
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap

DEFAULT_PIPELINE = "Sales"
# (name, win probability %): a plain B2B funnel people recognise at once.
DEFAULT_STAGES = [("New", 10), ("Qualified", 25), ("Proposal", 50), ("Negotiation", 75)]
MAX_STAGES = 30
# pg_advisory_xact_lock(namespace, workspace): namespace "dp" for "default pipeline".
_LOCK_NAMESPACE = 0x6470


def ensure_pipeline(workspace_id: int) -> Pipeline:
    """The workspace's first pipeline, creating the default one the first
    time any page or call needs it. Concurrent first calls create it once:
    they queue on an advisory lock, and the later ones find it made."""
    first = _first_pipeline(workspace_id)
    if first is not None:
        return first
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, workspace_id % 2**31]
            )
        first = _first_pipeline(workspace_id)
        if first is not None:
            return first
        pipeline = Pipeline.objects.create(workspace_id=workspace_id, name=DEFAULT_PIPELINE)
        Stage.objects.bulk_create(
            Stage(
                workspace_id=workspace_id,
                pipeline=pipeline,
                name=name,
                position=i,
                probability=probability,
            )
            for i, (name, probability) in enumerate(DEFAULT_STAGES)
        )
        return pipeline


def _first_pipeline(workspace_id: int) -> Pipeline | None:
    return Pipeline.objects.filter(workspace_id=workspace_id).order_by("position", "id").first()


def _clean_name(name: str, what: str) -> str:
    name = " ".join(name.split())[:80]
    if not name:
        raise ActionError(f"Name the {what}.", code="required", field="name")
    return name


def _clean_probability(probability: int | None) -> int | None:
    if probability is not None and not 0 <= probability <= 100:
        raise ActionError(
            "The win probability is a percentage from 0 to 100.",
            code="invalid_probability",
            field="probability",
        )
    return probability


def _pipeline_name_free(actor: Actor, name: str, pipeline: Pipeline | None) -> None:
    clash = Pipeline.objects.filter(workspace=actor.workspace, name__iexact=name)
    if pipeline is not None:
        clash = clash.exclude(pk=pipeline.pk)
    if clash.exists():
        raise Conflict(f"There is a pipeline {name!r} already.", code="duplicate", field="name")


def _stage_name_free(actor: Actor, pipeline: Pipeline, name: str, stage: Stage | None) -> None:
    clash = Stage.objects.filter(workspace=actor.workspace, pipeline=pipeline, name__iexact=name)
    if stage is not None:
        clash = clash.exclude(pk=stage.pk)
    if clash.exists():
        raise Conflict(
            f"This pipeline has a stage {name!r} already.", code="duplicate", field="name"
        )


@transaction.atomic
def do_create_pipeline(*, actor: Actor, name: str, stages: list[str] | None = None) -> Pipeline:
    """A new pipeline with the given stage names (the default stages if none)."""
    actor.require(Cap.WORKSPACE_MANAGE)
    name = _clean_name(name, "pipeline")
    _pipeline_name_free(actor, name, None)
    if stages:
        names = [_clean_name(s, "stage") for s in stages]
        if len({n.lower() for n in names}) != len(names):
            raise ActionError("Stage names must differ.", code="duplicate", field="stages")
        if len(names) > MAX_STAGES:
            raise ActionError(
                f"A pipeline has at most {MAX_STAGES} stages.", code="too_many", field="stages"
            )
        plan: list[tuple[str, int | None]] = [(n, None) for n in names]
    else:
        plan = [(n, p) for n, p in DEFAULT_STAGES]
    last = Pipeline.objects.filter(workspace=actor.workspace).aggregate(m=Max("position"))["m"]
    pipeline = Pipeline.objects.create(
        workspace=actor.workspace, name=name, position=0 if last is None else last + 1
    )
    Stage.objects.bulk_create(
        Stage(workspace=actor.workspace, pipeline=pipeline, name=n, position=i, probability=p)
        for i, (n, p) in enumerate(plan)
    )
    return pipeline


@transaction.atomic
def do_rename_pipeline(*, actor: Actor, pipeline: Pipeline, name: str) -> Pipeline:
    actor.require(Cap.WORKSPACE_MANAGE)
    name = _clean_name(name, "pipeline")
    _pipeline_name_free(actor, name, pipeline)
    pipeline.name = name
    pipeline.save(update_fields=["name"])
    return pipeline


@transaction.atomic
def do_delete_pipeline(*, actor: Actor, pipeline: Pipeline) -> None:
    actor.require(Cap.WORKSPACE_MANAGE)
    deals = Deal.objects.filter(workspace=actor.workspace, pipeline=pipeline).count()
    if deals:
        raise Conflict(
            f"{pipeline.name} still holds {deals} deal{'s' if deals != 1 else ''}: "
            "move or delete them first.",
            code="pipeline_not_empty",
        )
    if not Pipeline.objects.filter(workspace=actor.workspace).exclude(pk=pipeline.pk).exists():
        raise Conflict("A workspace keeps at least one pipeline.", code="last_pipeline")
    pipeline.delete()


@transaction.atomic
def do_add_stage(
    *, actor: Actor, pipeline: Pipeline, name: str, probability: int | None = None
) -> Stage:
    """A new stage at the end of the pipeline."""
    actor.require(Cap.WORKSPACE_MANAGE)
    name = _clean_name(name, "stage")
    _stage_name_free(actor, pipeline, name, None)
    stages = Stage.objects.filter(workspace=actor.workspace, pipeline=pipeline)
    if stages.count() >= MAX_STAGES:
        raise ActionError(
            f"A pipeline has at most {MAX_STAGES} stages.", code="too_many", field="name"
        )
    last = stages.aggregate(m=Max("position"))["m"]
    return Stage.objects.create(
        workspace=actor.workspace,
        pipeline=pipeline,
        name=name,
        position=0 if last is None else last + 1,
        probability=_clean_probability(probability),
    )


@transaction.atomic
def do_update_stage(
    *, actor: Actor, stage: Stage, name: str | None = None, probability: int | None = None
) -> Stage:
    """Rename a stage and/or set its probability (None leaves the name as is;
    the probability is always set, None clearing it)."""
    actor.require(Cap.WORKSPACE_MANAGE)
    if name is not None:
        name = _clean_name(name, "stage")
        _stage_name_free(actor, stage.pipeline, name, stage)
        stage.name = name
    stage.probability = _clean_probability(probability)
    stage.save(update_fields=["name", "probability"])
    return stage


@transaction.atomic
def do_reorder_stages(*, actor: Actor, pipeline: Pipeline, stage_ids: list[int]) -> list[Stage]:
    """Put the pipeline's stages in the given order (every stage exactly once)."""
    actor.require(Cap.WORKSPACE_MANAGE)
    stages = {
        s.pk: s
        for s in Stage.objects.select_for_update().filter(
            workspace=actor.workspace, pipeline=pipeline
        )
    }
    if sorted(stage_ids) != sorted(stages):
        raise ActionError(
            "List every stage of this pipeline exactly once, in the new order.",
            code="invalid_order",
            field="stage_ids",
        )
    ordered = [stages[i] for i in stage_ids]
    for position, stage in enumerate(ordered):
        stage.position = position
    Stage.objects.bulk_update(ordered, ["position"])
    return ordered


@transaction.atomic
def do_delete_stage(*, actor: Actor, stage: Stage, move_to: Stage | None = None) -> int:
    """Delete a stage. Its deals must go somewhere first: to ``move_to`` (a
    stage of the same pipeline) if given, else the deletion is refused.
    Returns how many deals were moved."""
    actor.require(Cap.WORKSPACE_MANAGE)
    siblings = Stage.objects.filter(workspace=actor.workspace, pipeline_id=stage.pipeline_id)
    if not siblings.exclude(pk=stage.pk).exists():
        raise Conflict("A pipeline keeps at least one stage.", code="last_stage")
    deals = list(Deal.objects.select_for_update().filter(workspace=actor.workspace, stage=stage))
    if deals and move_to is None:
        n = len(deals)
        raise Conflict(
            f"{stage.name} still holds {n} deal{'s' if n != 1 else ''}: "
            "choose a stage to move them to, or move them on the board first.",
            code="stage_not_empty",
            field="move_to",
        )
    if deals and move_to is not None:
        if move_to.pk == stage.pk or move_to.pipeline_id != stage.pipeline_id:
            raise ActionError(
                "Move the deals to another stage of the same pipeline.",
                code="invalid_stage",
                field="move_to",
            )
        last = Deal.objects.filter(workspace=actor.workspace, stage=move_to).aggregate(
            m=Max("position")
        )["m"]
        start = 0 if last is None else last + 1
        for offset, deal in enumerate(sorted(deals, key=lambda d: (d.position, d.pk))):
            deal.stage = move_to
            deal.position = start + offset
        Deal.objects.bulk_update(deals, ["stage", "position"])
        DealEvent.objects.bulk_create(
            DealEvent(
                workspace=actor.workspace,
                deal=deal,
                kind=DealEvent.Kind.STAGE_CHANGED,
                data={"from": stage.name, "to": move_to.name, "to_id": move_to.pk},
                actor=actor.user,
            )
            for deal in deals
        )
    stage.delete()
    return len(deals)
