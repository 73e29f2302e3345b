"""The search words of imported contacts, written after their chunk (on a
second connection when the job runs on its own): every contact ends up
searchable and tagged exactly once, also after a crash between the two."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client

from parley.core.tenant import workspace_context
from parley.crm.models import Contact, ContactTag
from parley.crm.search import search_contacts
from parley.transfer import importer, words
from parley.transfer.models import ImportChunk, ImportStatus
from parley.transfer.tests.helpers import load_import, upload
from tests.factories import Tenant


def _csv(rows: int) -> bytes:
    lines = ["name,phone,email,tags"]
    for n in range(rows):
        lines.append(f"Person{n} Surname{n},+44 7911 {n:06d},p{n}@example.com,batch;group {n % 3}")
        if n % 9 == 4:
            lines.append(f"Again {n},+44 7911 {n:06d},,")  # an in-file duplicate
    return ("\n".join(lines) + "\n").encode()


def _word_gaps(tenant: Tenant) -> tuple[int, int]:
    """(contact words missing, words of no contact) in the tenant's index,
    against what the search triggers would have written."""
    with workspace_context(tenant.workspace.pk), connection.cursor() as cursor:
        expected = (
            "SELECT c.id, t FROM crm_contact c, parley_contact_terms("
            "c.name, c.profile_name, c.email, c.wa_id, c.attributes) AS t "
            "WHERE c.workspace_id = %s"
        )
        stored = "SELECT object_id, term FROM core_searchterm WHERE workspace_id = %s AND kind = 1"
        ws = tenant.workspace.pk
        cursor.execute(f"SELECT count(*) FROM ({expected} EXCEPT {stored}) x", [ws, ws])
        missing = cursor.fetchone()
        cursor.execute(f"SELECT count(*) FROM ({stored} EXCEPT {expected}) x", [ws, ws])
        extra = cursor.fetchone()
    assert missing is not None and extra is not None
    return int(missing[0]), int(extra[0])


def _tag_links(tenant: Tenant) -> tuple[int, int]:
    """(contact-tag rows, distinct contact-tag pairs)."""
    with workspace_context(tenant.workspace.pk):
        links = ContactTag.objects.filter(workspace=tenant.workspace)
        return links.count(), len(set(links.values_list("contact_id", "tag_id")))


def _start(tenant: Tenant, client: Client, content: bytes) -> int:
    import_id = int(upload(client, "people.csv", content).json()["id"])
    assert client.post(f"/api/v1/imports/{import_id}/start").status_code == 200
    return import_id


@pytest.mark.django_db
def test_a_crash_between_contacts_and_their_words_is_completed_by_the_rerun(
    tenant_a: Tenant, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner: Client = login(tenant_a.owner)
    import_id = _start(tenant_a, owner, _csv(40))

    class WorkerDiedError(Exception):
        pass

    def die(*_args: Any, **_kwargs: Any) -> int:
        raise WorkerDiedError

    # The first chunk commits, then the worker dies before its words.
    monkeypatch.setattr(words, "fill_words", die)
    with pytest.raises(WorkerDiedError):
        importer.run_import(tenant_a.workspace.pk, import_id, chunk_rows=10)
    monkeypatch.undo()
    first = load_import(tenant_a, import_id)
    assert first.status == ImportStatus.RUNNING and first.created == 9
    missing, extra = _word_gaps(tenant_a)
    assert missing > 0 and extra == 0
    with workspace_context(tenant_a.workspace.pk):
        assert not search_contacts(tenant_a.workspace.pk, "Person3").exists()
        pending = ImportChunk.objects.get(contact_import_id=import_id)
        assert not pending.words_done and len(pending.created_ids) == 9

    # The rerun writes the rest and completes the words the crash left.
    importer.run_import(tenant_a.workspace.pk, import_id, chunk_rows=10)
    done = load_import(tenant_a, import_id)
    assert done.status == ImportStatus.DONE
    assert (done.created, done.rejected) == (40, 4)
    assert _word_gaps(tenant_a) == (0, 0)
    with workspace_context(tenant_a.workspace.pk):
        found = search_contacts(tenant_a.workspace.pk, "Person3 p3@example.com")
        assert list(found.values_list("wa_id", flat=True)) == ["447911000003"]
        assert search_contacts(tenant_a.workspace.pk, "Surname39").count() == 1
        assert not ImportChunk.objects.filter(contact_import_id=import_id).exists()
    # batch + one group tag each, never twice.
    assert _tag_links(tenant_a) == (80, 80)


@pytest.mark.django_db(transaction=True)
def test_words_follow_on_a_second_connection_when_the_job_runs_alone(
    tenant_a: Tenant, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner: Client = login(tenant_a.owner)
    import_id = _start(tenant_a, owner, _csv(60))
    fillers: set[str] = set()
    real_fill = words.fill_words

    def spy(*args: Any, **kwargs: Any) -> int:
        import threading

        fillers.add(threading.current_thread().name)
        return real_fill(*args, **kwargs)

    monkeypatch.setattr(words, "fill_words", spy)
    assert not connection.in_atomic_block
    importer.run_import(tenant_a.workspace.pk, import_id, chunk_rows=10)

    assert fillers == {f"import-{import_id}-words"}
    imp = load_import(tenant_a, import_id)
    assert (imp.status, imp.created, imp.rejected) == (ImportStatus.DONE, 60, 7)
    assert _word_gaps(tenant_a) == (0, 0)
    assert _tag_links(tenant_a) == (120, 120)


@pytest.mark.django_db
def test_only_the_import_insert_skips_the_word_trigger(tenant_a: Tenant) -> None:
    ws = tenant_a.workspace
    with workspace_context(ws.pk):
        with words.words_deferred():
            Contact.objects.create(workspace=ws, wa_id="447911000001", name="Deferred Person")
        Contact.objects.create(workspace=ws, wa_id="447911000002", name="Ordinary Person")
        assert [c.name for c in search_contacts(ws.pk, "person")] == ["Ordinary Person"]
