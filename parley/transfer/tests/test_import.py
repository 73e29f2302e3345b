"""Contact import: messy files, the mapping, validation, counters, the error
file, XLSX, and resuming after a crash without doing any row twice."""

from __future__ import annotations

import csv
import io
from typing import Any

import openpyxl
import pytest
from django.test import Client

from parley.core.errors import Conflict
from parley.core.tenant import workspace_context
from parley.crm.models import AttributeDefinition, Contact, ContactTag
from parley.transfer import importer
from parley.transfer.actions import do_start_import, do_update_import
from parley.transfer.mapping import guess
from parley.transfer.models import ContactImport, ImportChunk, ImportReject, ImportStatus
from parley.transfer.tasks import run_import_job
from parley.transfer.tests.helpers import (
    MESSY_REJECTS,
    MESSY_ROWS,
    contacts,
    load_import,
    messy_csv,
    patch,
    seed_messy_workspace,
    tag_names,
    upload,
)
from tests.factories import Tenant, actor_for

pytestmark = pytest.mark.django_db

MESSY_MAPPING = ["name", "phone", "email", "tags", "attr:plan", "ignore"]


def _start_messy(tenant: Tenant, client: Client, *, update: bool) -> int:
    seed_messy_workspace(tenant)
    created = upload(client, "customers.csv", messy_csv())
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["encoding"], body["delimiter"]) == ("utf-8-sig", ";")
    assert body["headers"] == MESSY_ROWS[0]
    assert body["mapping"] == MESSY_MAPPING
    assert body["sample_rows"][0][0] == "Ada Lovelace"
    changed = patch(
        client,
        body["id"],
        {"update_existing": update, "tags": ["Imported"], "default_country": "US"},
    )
    assert changed.status_code == 200, changed.content
    started = client.post(f"/api/v1/imports/{body['id']}/start")
    assert started.status_code == 200 and started.json()["status"] == "queued"
    return int(body["id"])


def _error_rows(client: Client, import_id: int) -> list[list[str]]:
    response = client.get(f"/api/v1/imports/{import_id}/errors")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_messy_csv_imports_with_exact_counts_and_an_error_file(
    tenant_a: Tenant, login: Any
) -> None:
    owner: Client = login(tenant_a.owner)
    import_id = _start_messy(tenant_a, owner, update=True)
    run_import_job(workspace_id=tenant_a.workspace.pk, import_id=import_id)

    status = owner.get(f"/api/v1/imports/{import_id}").json()
    assert status["status"] == "done" and status["percent"] == 100
    assert (status["created"], status["updated"], status["skipped"], status["rejected"]) == (
        5,
        1,
        0,
        4,
    )
    assert status["rows_done"] == status["rows_total"] == 10
    assert status["errors_url"] == f"/api/v1/imports/{import_id}/errors"

    found = contacts(tenant_a)
    assert set(found) == {
        "447911123456",
        "14155550199",
        "447911123457",
        "447911123458",
        "14155550100",
        "447911123461",
    }
    ada = found["447911123456"]
    assert (ada.name, ada.email, ada.phone_e164) == (
        "Ada Lovelace",
        "ada@example.com",
        "+447911123456",
    )
    assert ada.attributes == {"plan": "gold"}
    # "vip" is the existing VIP tag (matched like the tag form does), London is new.
    assert tag_names(ada) == {"VIP", "London", "Imported"}
    assert tag_names(found["14155550199"]) == {"VIP", "Imported"}
    existing = found["14155550100"]
    assert (existing.name, existing.email) == ("Existing Person", "new@example.com")
    assert existing.attributes == {"note": "kept", "plan": "gold"}  # merged, not replaced
    assert "Imported" in tag_names(existing)

    rows = _error_rows(owner, import_id)
    assert rows[0] == [*MESSY_ROWS[0], "reason"]
    by_row = {r[0]: r for r in rows[1:]}
    originals = {MESSY_ROWS[n - 1][0]: n for n in MESSY_REJECTS}
    assert set(by_row) == set(originals)
    for name, row_number in originals.items():
        line = by_row[name]
        assert line[:-1] == MESSY_ROWS[row_number - 1]  # the row exactly as it was
        assert MESSY_REJECTS[row_number] in line[-1]
    assert "valid phone number" in by_row["Bad Number"][-1]
    assert "email" in by_row["Bad Email"][-1]
    assert "Plan is one of gold, silver" in by_row["Bad Plan"][-1]
    # Bookkeeping is gone once done; the rejects stay for the error file.
    with workspace_context(tenant_a.workspace.pk):
        assert not ImportChunk.objects.filter(contact_import_id=import_id).exists()


def test_skip_existing_leaves_them_untouched(tenant_a: Tenant, login: Any) -> None:
    owner: Client = login(tenant_a.owner)
    import_id = _start_messy(tenant_a, owner, update=False)
    run_import_job(workspace_id=tenant_a.workspace.pk, import_id=import_id)
    imp = load_import(tenant_a, import_id)
    assert (imp.created, imp.updated, imp.skipped, imp.rejected) == (5, 0, 1, 4)
    existing = contacts(tenant_a)["14155550100"]
    assert (existing.name, existing.email, existing.attributes) == (
        "Old Name",
        "",
        {"note": "kept"},
    )
    assert tag_names(existing) == set()


def test_preview_shows_what_each_row_will_do(tenant_a: Tenant, login: Any) -> None:
    owner: Client = login(tenant_a.owner)
    seed_messy_workspace(tenant_a)
    import_id = upload(owner, "customers.csv", messy_csv()).json()["id"]
    rows = owner.get(f"/api/v1/imports/{import_id}/preview").json()["rows"]
    actions = {r["row_number"]: (r["action"], r["reason"]) for r in rows}
    assert actions[2] == ("create", "")
    assert actions[7] == ("reject", "duplicate of row 2")
    assert actions[8] == ("update", "")
    assert actions[9][0] == actions[10][0] == actions[11][0] == "reject"
    assert rows[0]["phone"] == "+447911123456" and rows[0]["tags"] == ["vip", "London"]
    patch(owner, import_id, {"update_existing": False})
    rows = owner.get(f"/api/v1/imports/{import_id}/preview").json()["rows"]
    assert {r["row_number"]: r["action"] for r in rows}[8] == "skip"


def test_mapping_is_validated(tenant_a: Tenant, login: Any) -> None:
    owner: Client = login(tenant_a.owner)
    seed_messy_workspace(tenant_a)
    import_id = upload(owner, "customers.csv", messy_csv()).json()["id"]
    unknown = patch(owner, import_id, {"mapping": [*MESSY_MAPPING[:4], "attr:nope", "ignore"]})
    assert unknown.status_code == 400
    assert (unknown.json()["code"], unknown.json()["field"]) == ("unknown_attribute", "mapping.4")
    no_phone = patch(
        owner, import_id, {"mapping": ["name", "ignore", "email", "tags", "ignore", "ignore"]}
    )
    assert no_phone.status_code == 400
    assert (no_phone.json()["code"], no_phone.json()["field"]) == ("phone_required", "mapping")
    twice = patch(
        owner, import_id, {"mapping": ["phone", "phone", "email", "tags", "ignore", "ignore"]}
    )
    assert twice.status_code == 400 and twice.json()["field"] == "mapping.1"
    short = patch(owner, import_id, {"mapping": ["phone"]})
    assert short.status_code == 400 and short.json()["field"] == "mapping"
    country = patch(owner, import_id, {"default_country": "XX"})
    assert country.status_code == 400 and country.json()["field"] == "default_country"
    ok = patch(
        owner, import_id, {"mapping": ["name", "phone", "ignore", "ignore", "ignore", "ignore"]}
    )
    assert ok.status_code == 200 and ok.json()["status"] == "mapping"
    assert owner.post(f"/api/v1/imports/{import_id}/start").status_code == 200
    late = patch(owner, import_id, {"update_existing": False})
    assert late.status_code == 409 and late.json()["code"] == "import_started"


def test_a_stale_save_cannot_undo_a_start(tenant_a: Tenant, login: Any) -> None:
    # The mapping page's htmx save (fired by the change that the click on Start
    # causes) can reach the server holding a copy read before the start
    # committed. It must be refused, not put the import back to mapping: the
    # job skips imports that are not queued, so the import would never run.
    owner: Client = login(tenant_a.owner)
    seed_messy_workspace(tenant_a)
    import_id = upload(owner, "customers.csv", messy_csv()).json()["id"]
    actor = actor_for(tenant_a.workspace, tenant_a.owner)
    with workspace_context(tenant_a.workspace.pk):
        stale = ContactImport.objects.get(pk=import_id)
        do_start_import(actor=actor, imp=ContactImport.objects.get(pk=import_id))
        with pytest.raises(Conflict) as refused:
            do_update_import(actor=actor, imp=stale, update_existing=False)
        assert refused.value.code == "import_started"
        with pytest.raises(Conflict):
            do_start_import(actor=actor, imp=ContactImport.objects.get(pk=import_id))
    imp = load_import(tenant_a, import_id)
    assert imp.status == ImportStatus.QUEUED and imp.options["update_existing"] is True


def test_unreadable_uploads_are_refused_clearly(tenant_a: Tenant, login: Any) -> None:
    owner: Client = login(tenant_a.owner)
    pdf = upload(owner, "contacts.pdf", b"%PDF-1.4")
    assert pdf.status_code == 400 and pdf.json()["field"] == "file"
    empty = upload(owner, "contacts.csv", b"\n\n\n")
    assert empty.status_code == 400 and empty.json()["code"] == "empty_file"
    broken = upload(owner, "contacts.xlsx", b"PK\x03\x04 not really a zip")
    assert broken.status_code == 400 and broken.json()["code"] == "unreadable_file"


def test_mapping_guesses_from_headers() -> None:
    plan = AttributeDefinition(key="plan", label="Plan", type="text")
    city = AttributeDefinition(key="city_name", label="Home town", type="text")
    assert guess(
        ["Full Name", "WhatsApp", "E-mail address", "Labels", "PLAN", "Home town", "Notes"],
        [plan, city],
    ) == ["name", "phone", "email", "tags", "attr:plan", "attr:city_name", "ignore"]
    assert guess(["First name", "Last name", "Mobile number", "city_name"], [city]) == [
        "first_name",
        "last_name",
        "phone",
        "attr:city_name",
    ]
    # One column per field: the second phone-like column is left alone.
    assert guess(["Phone", "Work phone", "Name", "Surname"], []) == [
        "phone",
        "ignore",
        "name",
        "ignore",
    ]


def test_latin1_tab_separated_file(tenant_a: Tenant, login: Any) -> None:
    owner: Client = login(tenant_a.owner)
    content = "Name\tPhone\nJosé Müller\t+49 151 23456789\nZoë\t+49 151 23456780\n"
    created = upload(owner, "export.txt", content.encode("cp1252")).json()
    assert (created["encoding"], created["delimiter"]) == ("cp1252", "\t")
    owner.post(f"/api/v1/imports/{created['id']}/start")
    run_import_job(workspace_id=tenant_a.workspace.pk, import_id=created["id"])
    assert contacts(tenant_a)["4915123456789"].name == "José Müller"
    assert contacts(tenant_a)["4915123456780"].name == "Zoë"


def test_xlsx_import_keeps_every_digit(tenant_a: Tenant, login: Any) -> None:
    owner: Client = login(tenant_a.owner)
    with workspace_context(tenant_a.workspace.pk):
        AttributeDefinition.objects.create(
            workspace=tenant_a.workspace, key="seats", label="Seats", type="number"
        )
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["First name", "Last name", "Phone", "Seats", "Tags"])
    sheet.append(["Ada", "Lovelace", 447911123456, 3, "a; b"])  # an int cell
    sheet.append(["Grace", "Hopper", 14155550123.0, 12.0, None])  # a float cell
    sheet.append([None, None, None, None, None])
    sheet.append(["Alan", None, "+44 7911 123457", "many", None])
    buffer = io.BytesIO()
    book.save(buffer)
    created = upload(owner, "book.xlsx", buffer.getvalue()).json()
    assert created["format"] == "xlsx"
    assert created["mapping"] == ["first_name", "last_name", "phone", "attr:seats", "tags"]
    owner.post(f"/api/v1/imports/{created['id']}/start")
    run_import_job(workspace_id=tenant_a.workspace.pk, import_id=created["id"])
    imp = load_import(tenant_a, created["id"])
    assert (imp.created, imp.rejected, imp.rows_done) == (2, 1, 3)
    found = contacts(tenant_a)
    assert found["447911123456"].name == "Ada Lovelace"
    assert found["447911123456"].attributes == {"seats": 3}
    assert tag_names(found["447911123456"]) == {"a", "b"}
    assert found["14155550123"].attributes == {"seats": 12}
    rows = _error_rows_comma(owner, created["id"])
    assert rows[1] == ["Alan", "", "+44 7911 123457", "many", "", rows[1][-1]]
    assert "Seats must be a number" in rows[1][-1]


def _error_rows_comma(client: Client, import_id: int) -> list[list[str]]:
    response = client.get(f"/api/v1/imports/{import_id}/errors")
    text = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(text)))


def _big_csv(rows: int) -> bytes:
    lines = ["name,phone,tags"]
    for n in range(rows):
        lines.append(f"Person {n},+44 7911 {n:06d},batch")
        if n % 7 == 3:
            lines.append(f"Again {n},+44 7911 {n:06d},")  # an in-file duplicate
        if n % 11 == 5:
            lines.append(f"Broken {n},not a number,")
    return ("\n".join(lines) + "\n").encode()


def _finished_counts(tenant: Tenant, import_id: int) -> tuple[int, ...]:
    imp = load_import(tenant, import_id)
    assert imp.status == ImportStatus.DONE
    with workspace_context(tenant.workspace.pk):
        rejects = ImportReject.objects.filter(contact_import_id=import_id).count()
        people = Contact.objects.filter(workspace=tenant.workspace).count()
        tags = ContactTag.objects.filter(workspace=tenant.workspace).count()
    return (imp.created, imp.updated, imp.rejected, imp.rows_done, rejects, people, tags)


def test_a_crash_mid_import_resumes_and_does_every_row_exactly_once(
    tenant_a: Tenant, tenant_b: Tenant, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = _big_csv(60)
    # The same file in another workspace, imported without interruption.
    other: Client = login(tenant_b.owner)
    clean_id = upload(other, "people.csv", content).json()["id"]
    other.post(f"/api/v1/imports/{clean_id}/start")
    importer.run_import(tenant_b.workspace.pk, clean_id, chunk_rows=10)
    expected = _finished_counts(tenant_b, clean_id)
    assert expected[0] == 60 and expected[2] == 9 + 5  # 9 duplicates, 5 broken numbers

    owner: Client = login(tenant_a.owner)
    import_id = upload(owner, "people.csv", content).json()["id"]
    owner.post(f"/api/v1/imports/{import_id}/start")

    class WorkerDiedError(Exception):
        pass

    def die(_imp: Any) -> None:
        raise WorkerDiedError

    # 1. The worker dies after the first chunk committed.
    with pytest.raises(WorkerDiedError):
        importer.run_import(tenant_a.workspace.pk, import_id, chunk_rows=10, after_chunk=die)
    first = load_import(tenant_a, import_id)
    assert first.status == ImportStatus.RUNNING and first.checkpoint == 11 and first.rows_done == 10

    # 2. The rerun crashes in the middle of a chunk's transaction: nothing of it stays.
    real_store = importer._store_rejects
    calls = {"n": 0}

    def flaky_store(imp: Any, rejects: Any) -> None:
        real_store(imp, rejects)
        calls["n"] += 1
        if calls["n"] == 3:
            raise WorkerDiedError

    monkeypatch.setattr(importer, "_store_rejects", flaky_store)
    with pytest.raises(WorkerDiedError):
        importer.run_import(tenant_a.workspace.pk, import_id, chunk_rows=10)
    second = load_import(tenant_a, import_id)
    assert second.checkpoint > first.checkpoint and second.status == ImportStatus.RUNNING
    monkeypatch.setattr(importer, "_store_rejects", real_store)

    # 3. The third run finishes: the same result as the uninterrupted import.
    run_import_job(workspace_id=tenant_a.workspace.pk, import_id=import_id)
    assert _finished_counts(tenant_a, import_id) == expected
    # Duplicates across chunk boundaries and resumes were still caught.
    rows = _error_rows_comma(owner, import_id)
    assert len(rows) == 1 + expected[2]
    assert sum(1 for r in rows if r[-1].startswith("duplicate of row")) == 9
    # A finished import is not run again.
    run_import_job(workspace_id=tenant_a.workspace.pk, import_id=import_id)
    assert _finished_counts(tenant_a, import_id) == expected
