"""Contact export: content (CSV and XLSX, custom attributes), scopes, the
throttle, and who may do it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.crm.models import AttributeDefinition, Contact, ContactTag, Tag
from parley.transfer.models import ContactExport, ExportStatus
from parley.transfer.tasks import run_export_job
from parley.transfer.tests.helpers import load_export
from tests.factories import Tenant

pytestmark = pytest.mark.django_db


def _seed(tenant: Tenant) -> Tag:
    ws = tenant.workspace
    with workspace_context(ws.pk):
        AttributeDefinition.objects.create(workspace=ws, key="plan", label="Plan", type="text")
        AttributeDefinition.objects.create(workspace=ws, key="seats", label="Seats", type="number")
        vip = Tag.objects.create(workspace=ws, name="VIP")
        beta = Tag.objects.create(workspace=ws, name="Beta")
        ada = Contact.objects.create(
            workspace=ws,
            wa_id="447911123456",
            phone_e164="+447911123456",
            name="Ada Lovelace",
            email="ada@example.com",
            consent="opted_in",
            attributes={"plan": "gold", "seats": 12},
            last_inbound_at=timezone.now(),
        )
        Contact.objects.create(
            workspace=ws,
            wa_id="14155550100",
            phone_e164="+14155550100",
            profile_name="Grace (WhatsApp)",
            attributes={"plan": "=HYPERLINK(1)"},
        )
        ContactTag.objects.create(workspace=ws, contact=ada, tag=vip)
        ContactTag.objects.create(workspace=ws, contact=ada, tag=beta)
    return vip


def _export(client: Client, tenant: Tenant, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/exports", body, content_type="application/json")
    assert response.status_code == 202, response.content
    run_export_job(workspace_id=tenant.workspace.pk, export_id=response.json()["id"])
    done = client.get(f"/api/v1/exports/{response.json()['id']}").json()
    assert done["status"] == "done", done
    return dict(done)


def _download(client: Client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def _reset_throttle(tenant: Tenant) -> None:
    with workspace_context(tenant.workspace.pk):
        ContactExport.objects.filter(workspace=tenant.workspace).update(
            created_at=timezone.now() - timedelta(hours=2)
        )


def test_csv_export_has_every_column_and_attribute(tenant_a: Tenant, login: Any) -> None:
    _seed(tenant_a)
    owner: Client = login(tenant_a.owner)
    done = _export(owner, tenant_a, {"format": "csv"})
    assert (done["rows_done"], done["rows_total"], done["percent"]) == (2, 2, 100)
    text = _download(owner, done["download_url"]).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "name",
        "phone",
        "email",
        "consent",
        "tags",
        "created_at",
        "last_inbound_at",
        "Plan",
        "Seats",
    ]
    ada, grace = rows
    assert (ada["name"], ada["phone"], ada["email"], ada["consent"]) == (
        "Ada Lovelace",
        "+447911123456",
        "ada@example.com",
        "opted_in",
    )
    assert ada["tags"] == "Beta, VIP"
    assert (ada["Plan"], ada["Seats"]) == ("gold", "12")
    assert ada["last_inbound_at"] and ada["created_at"]
    assert grace["name"] == "Grace (WhatsApp)" and grace["last_inbound_at"] == ""
    # A formula-looking value is neutralised for spreadsheets.
    assert grace["Plan"] == "'=HYPERLINK(1)"
    # The page offers the same file.
    page_url = f"/w/{tenant_a.workspace.slug}/transfer/exports/{done['id']}/download/"
    assert _download(owner, page_url).decode("utf-8-sig") == text


def test_xlsx_export(tenant_a: Tenant, login: Any) -> None:
    _seed(tenant_a)
    owner: Client = login(tenant_a.owner)
    done = _export(owner, tenant_a, {"format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(_download(owner, done["download_url"])))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][-2:] == ("Plan", "Seats")
    assert rows[1][:5] == (
        "Ada Lovelace",
        "+447911123456",
        "ada@example.com",
        "opted_in",
        "Beta, VIP",
    )
    assert rows[1][-2:] == ("gold", 12)
    assert rows[2][-2] == "=HYPERLINK(1)"  # text, not a formula
    assert book.worksheets[0]["H3"].data_type == "s"


def test_search_and_segment_exports(tenant_a: Tenant, login: Any) -> None:
    vip = _seed(tenant_a)
    owner: Client = login(tenant_a.owner)
    searched = _export(owner, tenant_a, {"scope": "search", "q": "grace"})
    text = _download(owner, searched["download_url"]).decode("utf-8-sig")
    assert [r["phone"] for r in csv.DictReader(io.StringIO(text))] == ["+14155550100"]
    _reset_throttle(tenant_a)
    by_tag = _export(owner, tenant_a, {"scope": "search", "tag_id": vip.pk})
    text = _download(owner, by_tag["download_url"]).decode("utf-8-sig")
    assert [r["phone"] for r in csv.DictReader(io.StringIO(text))] == ["+447911123456"]

    from parley.segments.actions import do_create_segment
    from tests.factories import actor_for

    with workspace_context(tenant_a.workspace.pk):
        segment = do_create_segment(
            actor=actor_for(tenant_a.workspace, tenant_a.owner),
            name="VIPs",
            definition={
                "match": "all",
                "conditions": [{"field": "tags", "op": "has_any", "value": [vip.pk]}],
            },
        )
    _reset_throttle(tenant_a)
    segmented = _export(owner, tenant_a, {"scope": "segment", "segment_id": segment.pk})
    assert segmented["description"] == "Segment VIPs"
    text = _download(owner, segmented["download_url"]).decode("utf-8-sig")
    assert [r["name"] for r in csv.DictReader(io.StringIO(text))] == ["Ada Lovelace"]
    _reset_throttle(tenant_a)
    missing = owner.post("/api/v1/exports", {"scope": "segment"}, content_type="application/json")
    assert missing.status_code == 400 and missing.json()["field"] == "segment_id"


def test_exports_are_throttled(tenant_a: Tenant, login: Any) -> None:
    owner: Client = login(tenant_a.owner)

    def post() -> Any:
        return owner.post("/api/v1/exports", {"format": "csv"}, content_type="application/json")

    first = post()
    assert first.status_code == 202
    busy = post()
    assert busy.status_code == 429 and busy.json()["code"] == "export_throttled"
    assert "already running" in busy.json()["message"]
    run_export_job(workspace_id=tenant_a.workspace.pk, export_id=first.json()["id"])
    for _ in range(4):
        response = post()
        assert response.status_code == 202
        run_export_job(workspace_id=tenant_a.workspace.pk, export_id=response.json()["id"])
    sixth = post()
    assert sixth.status_code == 429 and sixth.json()["code"] == "export_throttled"
    assert "5 exports per hour" in sixth.json()["message"]
    assert "try again in" in sixth.json()["message"]
    # The page says so too.
    page = owner.post(f"/w/{tenant_a.workspace.slug}/transfer/", {"format": "csv"}, follow=True)
    assert "5 exports per hour" in page.content.decode()
    _reset_throttle(tenant_a)
    assert post().status_code == 202


def test_progress_is_reported_per_page(tenant_a: Tenant, login: Any) -> None:
    _seed(tenant_a)
    owner: Client = login(tenant_a.owner)
    exp_id = owner.post("/api/v1/exports", {}, content_type="application/json").json()["id"]
    seen: list[tuple[int, int]] = []

    from parley.transfer.exporter import run_export

    def record() -> None:
        exp = load_export(tenant_a, exp_id)
        seen.append((exp.rows_done, exp.rows_total))

    run_export(tenant_a.workspace.pk, exp_id, page=1, after_page=record)
    assert seen[:2] == [(1, 2), (2, 2)]
    assert load_export(tenant_a, exp_id).status == ExportStatus.DONE


def test_agents_and_viewers_may_not_transfer(tenant_a: Tenant, login: Any) -> None:
    from parley.transfer.tests.helpers import upload

    for user in (tenant_a.agent, tenant_a.viewer):
        client: Client = login(user)
        assert upload(client, "a.csv", b"phone\n+447911123456\n").status_code == 403
        assert client.get("/api/v1/imports").status_code == 403
        assert client.get("/api/v1/exports").status_code == 403
        assert (
            client.post("/api/v1/exports", {}, content_type="application/json").status_code == 403
        )
        assert client.get(f"/w/{tenant_a.workspace.slug}/transfer/").status_code == 403
        assert client.get(f"/w/{tenant_a.workspace.slug}/transfer/imports/new/").status_code == 403
        home = client.get(f"/w/{tenant_a.workspace.slug}/contacts/").content.decode()
        assert "Import / export" not in home
    admin: Client = login(tenant_a.admin)
    assert admin.get("/api/v1/imports").status_code == 200
    assert (
        "Import / export" in admin.get(f"/w/{tenant_a.workspace.slug}/contacts/").content.decode()
    )
