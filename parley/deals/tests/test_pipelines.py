"""Pipeline configuration: admins only, stage deletion refused while deals
sit in the stage, the default pipeline created once under concurrency."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import close_old_connections, connection
from django.test import Client

from parley.core.tenant import workspace_context
from parley.deals.models import Deal, Pipeline, Stage
from parley.deals.pipelines import ensure_pipeline
from tests.factories import Tenant

API = "/api/v1"


def _json(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(client, method)(API + url, body, content_type="application/json")


@pytest.mark.django_db
def test_admin_configures_pipelines_and_stages(tenant_a: Tenant, login: Any) -> None:
    admin: Client = login(tenant_a.admin)
    created = _json(admin, "post", "/pipelines", {"name": "Partners", "stages": ["Intro", "Pilot"]})
    assert created.status_code == 201
    pid = created.json()["id"]
    assert [s["name"] for s in created.json()["stages"]] == ["Intro", "Pilot"]
    assert _json(admin, "post", "/pipelines", {"name": "partners"}).status_code == 409
    added = _json(admin, "post", f"/pipelines/{pid}/stages", {"name": "Signed", "probability": 90})
    assert added.status_code == 201 and added.json()["position"] == 2
    bad = _json(admin, "post", f"/pipelines/{pid}/stages", {"name": "X", "probability": 150})
    assert bad.status_code == 400 and bad.json()["field"] == "probability"
    ids = [s["id"] for s in _json(admin, "get", f"/pipelines/{pid}").json()["stages"]]
    reordered = _json(admin, "post", f"/pipelines/{pid}/stages/order", {"stage_ids": ids[::-1]})
    assert [s["name"] for s in reordered.json()["stages"]] == ["Signed", "Pilot", "Intro"]
    partial = _json(admin, "post", f"/pipelines/{pid}/stages/order", {"stage_ids": ids[:2]})
    assert partial.status_code == 400 and partial.json()["code"] == "invalid_order"
    renamed = _json(admin, "patch", f"/stages/{ids[0]}", {"name": "First call"})
    assert renamed.json()["name"] == "First call" and renamed.json()["probability"] is None
    assert _json(admin, "patch", f"/pipelines/{pid}", {"name": "Alliances"}).json()["name"] == (
        "Alliances"
    )


@pytest.mark.django_db
def test_stage_with_deals_cannot_be_deleted_until_they_move(tenant_a: Tenant, login: Any) -> None:
    admin: Client = login(tenant_a.admin)
    stages = admin.get(API + "/pipelines").json()[0]["stages"]
    new, qualified = stages[0]["id"], stages[1]["id"]
    deal = _json(admin, "post", "/deals", {"title": "Sitting", "stage_id": new}).json()
    refused = admin.delete(API + f"/stages/{new}")
    assert refused.status_code == 409
    assert refused.json()["code"] == "stage_not_empty" and "1 deal" in refused.json()["message"]
    # A closed deal in the stage blocks it too (its history points there).
    _json(admin, "post", f"/deals/{deal['id']}/won")
    assert admin.delete(API + f"/stages/{new}").status_code == 409
    assert admin.delete(API + f"/stages/{new}?move_to={qualified}").status_code == 204
    with workspace_context(tenant_a.workspace.pk):
        assert Deal.objects.get(pk=deal["id"]).stage_id == qualified
        assert not Stage.objects.filter(pk=new).exists()
    # The pipeline holds a deal: it stays.
    pid = stages[0]["pipeline_id"]
    assert admin.delete(API + f"/pipelines/{pid}").status_code == 409


@pytest.mark.django_db
def test_settings_page_for_admins_only(tenant_a: Tenant, login: Any) -> None:
    slug = tenant_a.workspace.slug
    assert login(tenant_a.agent).get(f"/w/{slug}/deals/settings/").status_code == 403
    admin: Client = login(tenant_a.admin)
    page = admin.get(f"/w/{slug}/deals/settings/")
    assert page.status_code == 200 and b"Negotiation" in page.content
    with workspace_context(tenant_a.workspace.pk):
        pipeline = Pipeline.objects.get()
        stage = Stage.objects.get(pipeline=pipeline, name="New")
        Deal.objects.create(
            workspace=tenant_a.workspace, title="Stuck", pipeline=pipeline, stage=stage
        )
    url = f"/w/{slug}/deals/settings/?pipeline={pipeline.pk}"
    refused = admin.post(url, {"op": "delete_stage", "stage": stage.pk}, follow=True)
    assert "still holds 1 deal" in refused.content.decode()
    admin.post(url, {"op": "add_stage", "name": "Won-ish", "probability": "95"})
    admin.post(url, {"op": "up", "stage": stage.pk})  # already first: nothing happens
    admin.post(url, {"op": "down", "stage": stage.pk})
    with workspace_context(tenant_a.workspace.pk):
        names = list(
            Stage.objects.filter(pipeline=pipeline)
            .order_by("position")
            .values_list("name", flat=True)
        )
    assert names == ["Qualified", "New", "Proposal", "Negotiation", "Won-ish"]


@pytest.mark.django_db(transaction=True)
def test_default_pipeline_created_once_under_concurrency(tenant_a: Tenant) -> None:
    workspace_id = tenant_a.workspace.pk
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def first_visit() -> None:
        try:
            barrier.wait()
            with workspace_context(workspace_id):
                ensure_pipeline(workspace_id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first_visit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    close_old_connections()
    assert not errors, errors
    with workspace_context(workspace_id):
        assert Pipeline.objects.count() == 1
        assert Stage.objects.count() == 4
