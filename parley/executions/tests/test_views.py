"""The log pages and API: filters, pagination, details, roles, retention setting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.executions.models import LogSettings
from parley.executions.tests.helpers import record
from parley.tenancy.models import AuditEvent
from tests.factories import Tenant, make_token

pytestmark = pytest.mark.django_db


def _api(raw_token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw_token}"})


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_api_filters_by_kind_status_source_and_date(tenant_a: Tenant) -> None:
    day = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    wf1 = record(tenant_a, source_id=1, at=day)
    wf1_failed = record(
        tenant_a, source_id=1, status="failed", error="boom", at=day + timedelta(hours=1)
    )
    wf2 = record(tenant_a, source_id=2, label="Other", at=day + timedelta(days=1))
    hook = record(
        tenant_a, kind="webhook", source_id=1, label="Endpoint", at=day + timedelta(days=2)
    )
    api = _api(tenant_a.raw_token)
    url = "/api/v1/executions"

    assert _ids(api.get(url)) == [hook, wf2, wf1_failed, wf1]
    assert _ids(api.get(url, {"kind": "workflow"})) == [wf2, wf1_failed, wf1]
    assert _ids(api.get(url, {"kind": "workflow", "source_id": "1"})) == [wf1_failed, wf1]
    assert _ids(api.get(url, {"status": "failed"})) == [wf1_failed]
    assert _ids(
        api.get(url, {"since": "2026-03-10T12:30:00Z", "until": "2026-03-12T00:00:00Z"})
    ) == [wf2, wf1_failed]
    failed = api.get(url, {"status": "failed"}).json()["items"][0]
    assert failed["error"] == "boom" and failed["kind"] == "workflow"
    assert "trigger" not in failed

    # Bad input: a 4xx that says what to fix.
    response = api.get(url, {"source_id": "1"})
    assert response.status_code == 400 and "needs kind" in response.json()["message"]
    assert api.get(url, {"kind": "cron"}).status_code == 422
    response = api.get(url, {"cursor": "garbage!"})
    assert response.status_code == 400 and "cursor" in response.json()["message"]
    response = api.get(url, {"since": "2026-03-12T00:00:00Z", "until": "2026-03-10T00:00:00Z"})
    assert response.status_code == 400
    assert api.get(url, {"limit": 0}).status_code == 400


def test_api_paginates_newest_first_with_a_cursor(tenant_a: Tenant) -> None:
    start = timezone.now() - timedelta(hours=1)
    # Two runs share a start time: the id breaks the tie.
    runs = [record(tenant_a, at=start + timedelta(seconds=i // 2 * 10)) for i in range(5)]
    api = _api(tenant_a.raw_token)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = api.get("/api/v1/executions", params).json()
        seen += [i["id"] for i in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert seen == sorted(runs, reverse=True)


def test_api_gets_one_run_with_its_steps(tenant_a: Tenant, tenant_b: Tenant) -> None:
    run = record(
        tenant_a,
        trigger={"event": "message.received", "text": "hi"},
        status="failed",
        error="HTTP 500",
        steps=[
            {"key": "tag", "type": "add_tag", "input": {"tag": "vip"}, "outcome": {"added": True}},
            {"key": "call", "type": "http_call", "status": "failed", "error": "HTTP 500"},
        ],
    )
    body = _api(tenant_a.raw_token).get(f"/api/v1/executions/{run}").json()
    assert body["trigger"] == {"event": "message.received", "text": "hi"}
    assert [(s["position"], s["key"], s["status"]) for s in body["steps"]] == [
        (1, "tag", "ok"),
        (2, "call", "failed"),
    ]
    assert body["steps"][0]["input"] == {"tag": "vip"}
    # Another workspace's token: 404 alike for missing and not-yours.
    assert _api(tenant_b.raw_token).get(f"/api/v1/executions/{run}").status_code == 404
    assert _api(tenant_a.raw_token).get("/api/v1/executions/999999999").status_code == 404


def test_only_admins_and_owners_read_logs(tenant_a: Tenant, login: Any) -> None:
    run = record(tenant_a, trigger={"secret": "s3cr3t-header"})
    base = f"/w/{tenant_a.workspace.slug}/automation/logs/"
    for user in (tenant_a.owner, tenant_a.admin):
        client = login(user)
        assert client.get(base).status_code == 200
        assert "s3cr3t-header" in client.get(f"{base}{run}/").content.decode()
    for user in (tenant_a.agent, tenant_a.viewer):
        client = login(user)
        assert client.get(base).status_code == 403
        assert client.get(f"{base}{run}/").status_code == 403
    # A token needs the executions:read scope.
    _token, raw = make_token(tenant_a.workspace, tenant_a.owner, scopes=("workspace:read",))
    response = _api(raw).get("/api/v1/executions")
    assert response.status_code == 403 and "executions:read" in response.json()["message"]


def test_page_filters_paginates_and_expands(tenant_a: Tenant, login: Any) -> None:
    now = timezone.now()
    ok = record(tenant_a, source_id=7, label="Lead intake", at=now - timedelta(minutes=5))
    bad = record(
        tenant_a,
        source_id=7,
        label="Lead intake",
        status="failed",
        error="Template rejected",
        at=now - timedelta(minutes=4),
        steps=[{"key": "send", "type": "send_template", "input": {"name": "promo_1"}}],
    )
    hook = record(
        tenant_a, kind="webhook", source_id=3, label="Zapier", at=now - timedelta(minutes=3)
    )
    client = login(tenant_a.admin)
    base = f"/w/{tenant_a.workspace.slug}/automation/logs/"

    page = client.get(base).content.decode()
    assert "1 failure in the last 24 h" in page
    assert page.index(f'data-execution="{hook}"') < page.index(f'data-execution="{bad}"')
    assert 'value="workflow:7"' in page and "Workflow: Lead intake" in page
    assert "<svg" in page and "3 runs in the last 24 hours" in page

    only = client.get(base, {"source": "workflow:7", "status": "failed"}).content.decode()
    assert f'data-execution="{bad}"' in only
    assert f'data-execution="{ok}"' not in only and f'data-execution="{hook}"' not in only
    webhooks = client.get(base, {"kind": "webhook"}).content.decode()
    assert f'data-execution="{hook}"' in webhooks and f'data-execution="{bad}"' not in webhooks
    today = now.date().isoformat()
    assert (
        f'data-execution="{ok}"' not in client.get(base, {"date_to": "2020-01-01"}).content.decode()
    )
    assert (
        f'data-execution="{ok}"'
        in client.get(base, {"date_from": today, "date_to": today}).content.decode()
    )

    # Bad filters are form errors, not 500s.
    response = client.get(
        base, {"source": "nope", "date_from": "2026-05-02", "date_to": "2026-05-01", "cursor": "zz"}
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Pick a source from the list" in text and "must not come before" in text

    # The row expands into its details (the htmx fragment).
    fragment = client.get(f"{base}{bad}/", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment
    assert "Template rejected" in fragment and "promo_1" in fragment and "send_template" in fragment

    # Pagination: 50 a page, then the older ones.
    for i in range(50):
        record(tenant_a, source_id=99, label="Bulk", at=now - timedelta(hours=2, seconds=i))
    first = client.get(base).content.decode()
    assert f'data-execution="{ok}"' in first
    assert 'rel="next"' in first
    cursor = first.split("cursor=")[1].split('"')[0]
    second = client.get(f"{base}?cursor={cursor}").content.decode()
    assert second.count('class="ex-row"') == 3
    assert f'data-execution="{ok}"' not in second


def test_admins_set_retention_within_bounds(tenant_a: Tenant, login: Any) -> None:
    base = f"/w/{tenant_a.workspace.slug}/automation/logs/"
    client = login(tenant_a.admin)
    assert client.post(f"{base}settings/", {"days": "0"}).status_code == 400
    assert client.post(f"{base}settings/", {"days": "366"}).status_code == 400
    assert client.post(f"{base}settings/", {"days": "abc"}).status_code == 400
    response = client.post(f"{base}settings/", {"days": "90"})
    assert response.status_code == 302
    with workspace_context(tenant_a.workspace.pk):
        assert LogSettings.objects.get(workspace=tenant_a.workspace).retention_days == 90
        event = AuditEvent.objects.get(action="executions.retention_changed")
        assert event.data == {"before": 30, "after": 90}
    assert "Kept 90 days" in client.get(base).content.decode()
    assert login(tenant_a.agent).post(f"{base}settings/", {"days": "5"}).status_code == 403

    api = _api(tenant_a.raw_token)
    assert api.get("/api/v1/execution-settings").json() == {"retention_days": 90}
    response = api.put(
        "/api/v1/execution-settings", {"retention_days": 500}, content_type="application/json"
    )
    assert response.status_code == 400 and "between 1 and 365" in response.json()["message"]
    response = api.put(
        "/api/v1/execution-settings", {"retention_days": 7}, content_type="application/json"
    )
    assert response.json() == {"retention_days": 7}


def test_openapi_documents_the_routes_with_examples() -> None:
    spec = Client().get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    assert "get" in paths["/api/v1/executions"]
    assert "get" in paths["/api/v1/executions/{execution_id}"]
    assert {"get", "put"} <= set(paths["/api/v1/execution-settings"])
    params = {p["name"]: p for p in paths["/api/v1/executions"]["get"]["parameters"]}
    assert {"kind", "status", "source_id", "since", "until", "cursor", "limit"} <= set(params)
    assert params["status"]["examples"] == ["failed"]
    schemas = spec["components"]["schemas"]
    assert schemas["ExecutionDetailOut"]["properties"]["trigger"]["examples"][0]["event"] == (
        "message.received"
    )
    assert schemas["StepOut"]["properties"]["type"]["examples"] == ["http_call"]
    assert schemas["LogSettingsIn"]["properties"]["retention_days"]["examples"] == [90]
