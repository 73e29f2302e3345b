"""Deal pages: the board, a deal, its form, the CRM dashboard, pipeline settings. Thin."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_POST

from parley.core.errors import ActionError
from parley.crm.access import access_contact
from parley.crm.models import Contact
from parley.deals import access, actions, pipelines
from parley.deals.board import board, stage_sums
from parley.deals.dashboard import summary
from parley.deals.extensions import dashboard_tiles, deal_panels
from parley.deals.forms import CONTACT_CHOICES, DealForm
from parley.deals.models import Deal, DealEvent, DealStatus, Pipeline, Stage
from parley.deals.money import default_currency
from parley.tenancy.actor import Actor
from parley.tenancy.models import Membership
from parley.tenancy.roles import Cap
from parley.tenancy.web import apply_action, flash_action, workspace_view

CLOSED_PAGE = 100


def _pipeline_from(request: HttpRequest, actor: Actor) -> tuple[Pipeline, list[Pipeline]]:
    all_pipelines = list(access.pipelines(actor)[:100])
    if not all_pipelines:
        all_pipelines = [pipelines.ensure_pipeline(actor.workspace.pk)]
    raw = request.GET.get("pipeline", "")
    chosen = next((p for p in all_pipelines if str(p.pk) == raw), None)
    return chosen or all_pipelines[0], all_pipelines


def _stages(actor: Actor) -> list[Stage]:
    return list(
        Stage.objects.filter(workspace=actor.workspace).order_by("pipeline_id", "position", "id")
    )


def _members(actor: Actor) -> list[Membership]:
    return list(
        Membership.objects.select_related("user")
        .filter(workspace=actor.workspace)
        .order_by("user__name", "user__email")
    )


@workspace_view(Cap.CONTACTS_READ)
def deals_board(request: HttpRequest, actor: Actor) -> HttpResponse:
    pipeline, all_pipelines = _pipeline_from(request, actor)
    view = request.GET.get("view", "open")
    context: dict[str, Any] = {
        "pipeline": pipeline,
        "pipelines": all_pipelines,
        "view": view if view in ("open", "won", "lost") else "open",
        "can_write": actor.can(Cap.CONTACTS_WRITE),
        "can_manage": actor.can(Cap.WORKSPACE_MANAGE),
    }
    if context["view"] == "open":
        context["columns"] = board(actor, pipeline)
    else:
        context["closed"] = list(
            access.deal_list(actor, pipeline_id=pipeline.pk, status=context["view"])
            .select_related("contact", "owner", "stage")
            .order_by("-closed_at", "-id")[:CLOSED_PAGE]
        )
    return render(request, "deals/board.html", context)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@workspace_view(Cap.CONTACTS_WRITE)
@require_POST
def deals_move(request: HttpRequest, actor: Actor, deal_id: int) -> HttpResponseBase:
    """Drag and drop (JSON) or the "Move to" select (a form post): stage and
    optional position; answers with the new column figures."""
    deal = access.access_deal(actor, deal_id)
    raw_stage, raw_position = request.POST.get("stage", ""), request.POST.get("position", "")
    try:
        if not raw_stage.isdigit():
            raise ActionError("Choose a stage.", code="required", field="stage_id")
        if raw_position and not raw_position.lstrip("-").isdigit():
            raise ActionError("position is a number.", code="invalid_position", field="position")
        stage = access.access_stage(actor, int(raw_stage))
        actions.do_move_deal(
            actor=actor,
            deal=deal,
            stage=stage,
            position=int(raw_position) if raw_position else None,
        )
    except ActionError as exc:
        if _wants_json(request):
            return JsonResponse(
                {"code": exc.code, "message": exc.message, "field": exc.field}, status=exc.status
            )
        messages.error(request, exc.message)
    else:
        if _wants_json(request):
            sums = stage_sums(actor, deal.pipeline)
            return JsonResponse(
                {
                    "deal_id": deal.pk,
                    "stage_id": deal.stage_id,
                    "position": deal.position,
                    "columns": {
                        str(stage_id): {
                            "count": count,
                            "total": " · ".join(str(m) for m in totals),
                        }
                        for stage_id, (count, totals) in sums.items()
                    },
                }
            )
        messages.success(request, f"Moved to {deal.stage.name}.")
    back = request.POST.get("next", "")
    if back == "deal":
        return redirect("deals_detail", slug=actor.workspace.slug, deal_id=deal.pk)
    return redirect(
        reverse("deals_board", args=[actor.workspace.slug]) + f"?pipeline={deal.pipeline_id}"
    )


def _form_kwargs(actor: Actor, extra_contact: Contact | None) -> dict[str, Any]:
    contacts = list(
        Contact.objects.filter(workspace=actor.workspace).order_by("-updated_at")[:CONTACT_CHOICES]
    )
    if extra_contact is not None and all(c.pk != extra_contact.pk for c in contacts):
        contacts.insert(0, extra_contact)
    return {
        "contacts": contacts,
        "pipelines": list(access.pipelines(actor)[:100]),
        "stages": _stages(actor),
        "members": _members(actor),
    }


@workspace_view(Cap.CONTACTS_WRITE)
def deals_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    first = pipelines.ensure_pipeline(actor.workspace.pk)
    preset_contact = None
    raw_contact = request.GET.get("contact", "") or request.POST.get("contact_id", "")
    if raw_contact.isdigit():
        preset_contact = access_contact(actor, int(raw_contact))
    kwargs = _form_kwargs(actor, preset_contact)
    if request.method == "POST":
        form = DealForm(request.POST, **kwargs)
        if form.is_valid():
            deal = apply_action(form, lambda: _create(actor, form))
            if deal is not None:
                messages.success(request, "Deal created.")
                return redirect("deals_detail", slug=actor.workspace.slug, deal_id=deal.pk)
    else:
        raw_stage = request.GET.get("stage", "")
        first_stage = next((s for s in kwargs["stages"] if s.pipeline_id == first.pk), None)
        form = DealForm(
            initial={
                "contact_id": str(preset_contact.pk) if preset_contact else "",
                "stage_id": raw_stage
                if raw_stage.isdigit()
                else (first_stage.pk if first_stage else ""),
                "currency": default_currency(actor.workspace),
                "owner_id": str(actor.user_id or ""),
                "title": f"{preset_contact.display_name}: " if preset_contact else "",
            },
            **kwargs,
        )
    return render(request, "deals/deal_form.html", {"form": form, "deal": None})


def _create(actor: Actor, form: DealForm) -> Deal:
    data = form.cleaned_data
    stage = access.access_stage(actor, int(data["stage_id"]))
    contact = access_contact(actor, int(data["contact_id"])) if data["contact_id"] else None
    return actions.do_create_deal(
        actor=actor,
        title=data["title"],
        stage=stage,
        contact=contact,
        value=data["value"],
        currency=data["currency"],
        owner_id=int(data["owner_id"]) if data["owner_id"] else None,
        expected_close_date=data["expected_close_date"],
    )


@workspace_view(Cap.CONTACTS_WRITE)
def deals_edit(request: HttpRequest, actor: Actor, deal_id: int) -> HttpResponse:
    deal = access.access_deal(actor, deal_id)
    kwargs = _form_kwargs(actor, deal.contact)
    if request.method == "POST":
        form = DealForm(request.POST, **kwargs)
        if form.is_valid():
            saved = apply_action(form, lambda: _update(actor, deal, form))
            if saved is not None:
                messages.success(request, "Deal saved.")
                return redirect("deals_detail", slug=actor.workspace.slug, deal_id=deal.pk)
    else:
        form = DealForm(
            initial={
                "title": deal.title,
                "contact_id": str(deal.contact_id or ""),
                "stage_id": str(deal.stage_id),
                "value": deal.value,
                "currency": deal.currency,
                "owner_id": str(deal.owner_id or ""),
                "expected_close_date": deal.expected_close_date,
            },
            **kwargs,
        )
    return render(request, "deals/deal_form.html", {"form": form, "deal": deal})


def _update(actor: Actor, deal: Deal, form: DealForm) -> Deal:
    data = form.cleaned_data
    contact = access_contact(actor, int(data["contact_id"])) if data["contact_id"] else None
    deal = actions.do_update_deal(
        actor=actor,
        deal=deal,
        title=data["title"],
        contact=contact,
        value=data["value"],
        currency=data["currency"],
        owner_id=int(data["owner_id"]) if data["owner_id"] else None,
        expected_close_date=data["expected_close_date"],
    )
    if str(deal.stage_id) != data["stage_id"] and deal.status == DealStatus.OPEN:
        stage = access.access_stage(actor, int(data["stage_id"]))
        actions.do_move_deal(actor=actor, deal=deal, stage=stage)
    return deal


@workspace_view(Cap.CONTACTS_READ)
def deals_detail(request: HttpRequest, actor: Actor, deal_id: int) -> HttpResponse:
    deal = access.access_deal(actor, deal_id)
    if request.method == "POST":
        actor.require(Cap.CONTACTS_WRITE)
        op = request.POST.get("op")
        if op == "won":
            flash_action(request, lambda: actions.do_mark_won(actor=actor, deal=deal), "Won. Nice!")
        elif op == "lost":
            flash_action(
                request,
                lambda: actions.do_mark_lost(
                    actor=actor, deal=deal, reason=request.POST.get("reason", "")
                ),
                "Marked lost.",
            )
        elif op == "reopen":
            flash_action(
                request, lambda: actions.do_reopen_deal(actor=actor, deal=deal), "Reopened."
            )
        elif op == "delete" and flash_action(
            request, lambda: actions.do_delete_deal(actor=actor, deal=deal) or True, "Deleted."
        ):
            return redirect(
                reverse("deals_board", args=[actor.workspace.slug])
                + f"?pipeline={deal.pipeline_id}"
            )
        return redirect("deals_detail", slug=actor.workspace.slug, deal_id=deal.pk)
    events = list(
        DealEvent.objects.filter(workspace=actor.workspace, deal=deal)
        .select_related("actor")
        .order_by("-at", "-id")[:200]
    )
    # Rendered here: each panel has its own context from the app that owns it.
    panels_html = [
        render_to_string(
            p.template, {**p.context(actor, deal), "actor": actor, "deal": deal}, request=request
        )
        for p in deal_panels()
    ]
    return render(
        request,
        "deals/deal_detail.html",
        {
            "deal": deal,
            "events": events,
            "panels_html": panels_html,
            "stages": list(
                Stage.objects.filter(
                    workspace=actor.workspace, pipeline_id=deal.pipeline_id
                ).order_by("position", "id")
            ),
            "can_write": actor.can(Cap.CONTACTS_WRITE),
        },
    )


@workspace_view(Cap.CONTACTS_READ)
def deals_dashboard(request: HttpRequest, actor: Actor) -> HttpResponse:
    pipeline, all_pipelines = _pipeline_from(request, actor)
    s = summary(actor, pipeline)
    tiles = [
        {"template": t.template, "figures": s.extra.get(t.name, {})} for t in dashboard_tiles()
    ]
    return render(
        request,
        "deals/dashboard.html",
        {"s": s, "pipeline": pipeline, "pipelines": all_pipelines, "tiles": tiles},
    )


@workspace_view(Cap.WORKSPACE_MANAGE)
def deals_settings(request: HttpRequest, actor: Actor) -> HttpResponse:
    pipeline, all_pipelines = _pipeline_from(request, actor)
    if request.method == "POST":
        target = _settings_post(request, actor, pipeline)
        return redirect(
            reverse("deals_settings", args=[actor.workspace.slug]) + f"?pipeline={target}"
        )
    stages = list(
        Stage.objects.filter(workspace=actor.workspace, pipeline=pipeline).order_by(
            "position", "id"
        )
    )
    counts = {sid: n for sid, (n, _t) in stage_sums(actor, pipeline).items()}
    with_closed = set(
        Deal.objects.filter(workspace=actor.workspace, pipeline=pipeline)
        .exclude(status=DealStatus.OPEN)
        .values_list("stage_id", flat=True)
        .distinct()
    )
    for s in stages:
        s.open_count = counts.get(s.pk, 0)  # type: ignore[attr-defined]
        s.has_closed = s.pk in with_closed  # type: ignore[attr-defined]
    return render(
        request,
        "deals/settings.html",
        {"pipeline": pipeline, "pipelines": all_pipelines, "stages": stages},
    )


def _int(raw: str) -> int | None:
    return int(raw) if raw.strip().isdigit() else None


def _settings_post(request: HttpRequest, actor: Actor, pipeline: Pipeline) -> int:
    """One admin change to the pipeline setup; returns the pipeline to show next."""
    post = request.POST
    op = post.get("op", "")
    if op == "create_pipeline":
        created = flash_action(
            request,
            lambda: pipelines.do_create_pipeline(actor=actor, name=post.get("name", "")),
            "Pipeline created with the default stages; rename or add stages below.",
        )
        return created.pk if created is not None else pipeline.pk
    if op == "rename_pipeline":
        flash_action(
            request,
            lambda: pipelines.do_rename_pipeline(
                actor=actor, pipeline=pipeline, name=post.get("name", "")
            ),
            "Pipeline renamed.",
        )
    elif op == "delete_pipeline":
        if flash_action(
            request,
            lambda: pipelines.do_delete_pipeline(actor=actor, pipeline=pipeline) or True,
            f"Pipeline {pipeline.name} deleted.",
        ):
            return pipelines.ensure_pipeline(actor.workspace.pk).pk
    elif op == "add_stage":
        flash_action(
            request,
            lambda: pipelines.do_add_stage(
                actor=actor,
                pipeline=pipeline,
                name=post.get("name", ""),
                probability=_probability(post.get("probability", "")),
            ),
            "Stage added.",
        )
    elif op in ("save_stage", "delete_stage", "up", "down"):
        stage = access.access_stage(actor, _int(post.get("stage", "")) or 0)
        if stage.pipeline_id != pipeline.pk:
            messages.error(request, "That stage belongs to another pipeline.")
        elif op == "save_stage":
            flash_action(
                request,
                lambda: pipelines.do_update_stage(
                    actor=actor,
                    stage=stage,
                    name=post.get("name", ""),
                    probability=_probability(post.get("probability", "")),
                ),
                f"Stage {post.get('name', '').strip() or stage.name} saved.",
            )
        elif op == "delete_stage":
            move_to_id = _int(post.get("move_to", ""))
            move_to = access.access_stage(actor, move_to_id) if move_to_id else None
            flash_action(
                request,
                lambda: pipelines.do_delete_stage(actor=actor, stage=stage, move_to=move_to),
                f"Stage {stage.name} deleted.",
            )
        else:
            order = list(
                Stage.objects.filter(workspace=actor.workspace, pipeline=pipeline)
                .order_by("position", "id")
                .values_list("id", flat=True)
            )
            i = order.index(stage.pk)
            j = i - 1 if op == "up" else i + 1
            if 0 <= j < len(order):
                order[i], order[j] = order[j], order[i]
                pipelines.do_reorder_stages(actor=actor, pipeline=pipeline, stage_ids=order)
    return pipeline.pk


def _probability(raw: str) -> int | None:
    raw = raw.strip().rstrip("%")
    if not raw:
        return None
    if not raw.lstrip("-").isdigit():
        raise ActionError(
            "The win probability is a whole percentage, 0 to 100.",
            code="invalid_probability",
            field="probability",
        )
    return int(raw)
