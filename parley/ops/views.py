"""Probes and the operator console (staff only; others get a 404)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from procrastinate.contrib.django.models import ProcrastinateJob

from parley.core.tenant import dangerously_cross_tenant
from parley.ops.health import readiness
from parley.tenancy.access import workspace_by_id_for_operator
from parley.tenancy.actions import do_override_quota
from parley.tenancy.models import Membership, Workspace
from parley.tenancy.web import flash_action


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"alive": True})


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    report = readiness()
    return JsonResponse(report, status=200 if report["ready"] else 503)


def operator_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (request.user.is_authenticated and request.user.is_staff):
            raise Http404("Not found.")
        return view(request, *args, **kwargs)

    return wrapper


@operator_only
def console(request: HttpRequest) -> HttpResponse:
    with dangerously_cross_tenant(reason="operator console: tenant list"):
        workspaces = list(Workspace.objects.order_by("-created_at")[:200])
        counts = dict(
            Membership.objects.values_list("workspace_id")
            .annotate(n=Count("id"))
            .values_list("workspace_id", "n")
        )
    for ws in workspaces:
        ws.member_count = counts.get(ws.pk, 0)  # type: ignore[attr-defined]
    status_counts = dict(
        ProcrastinateJob.objects.values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    failed = list(ProcrastinateJob.objects.filter(status="failed").order_by("-id")[:100])
    stalled_workers = readiness()["checks"].get("worker", {})
    return render(
        request,
        "ops/console.html",
        {
            "workspaces": workspaces,
            "status_counts": status_counts,
            "failed": failed,
            "worker": stalled_workers,
        },
    )


@operator_only
def job_retry(request: HttpRequest, job_id: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    from procrastinate.contrib.django import app

    job = ProcrastinateJob.objects.filter(id=job_id, status="failed").first()
    if job is None:
        raise Http404("No such failed job.")
    app.job_manager.retry_job_by_id(job_id=job.id, retry_at=timezone.now())
    messages.success(request, f"Job {job.id} ({job.task_name}) queued again.")
    return redirect("ops_console")


@operator_only
def workspace_quota(request: HttpRequest, workspace_id: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponse(status=405)
    workspace = workspace_by_id_for_operator(workspace_id)
    try:
        quota = int(request.POST.get("quota", ""))
    except ValueError:
        messages.error(request, "The quota must be a whole number.")
        return redirect("ops_console")
    flash_action(
        request,
        lambda: do_override_quota(operator=request.user, workspace=workspace, quota=quota),  # type: ignore[arg-type]
        f"{workspace.name}: quota set to {quota:,}.",
    )
    return redirect("ops_console")
