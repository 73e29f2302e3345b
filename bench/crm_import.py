"""Contact import at size: a generated CSV of 1M rows (numbers in mixed
formats, names, emails, a tag column, an attribute) through the import job's
own code path, in a subprocess so its peak memory is its own; then a raw
COPY of the same file into a plain scratch table, as the floor to compare with.

Goals: 1M rows in <= 120 s wall time, < 300 MB peak memory."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench.common import ROOT, env_for, report

GOAL_SECONDS = 120.0
GOAL_MB = 300.0


def generate(path: Path, rows: int) -> None:
    """Unique UK mobile numbers written three ways (international with
    spaces, bare digits, national with the default country)."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("Full name,Mobile,Email,Tags,Plan\n")
        for n in range(rows):
            prefix = 7912 + n // 1_000_000
            tail = n % 1_000_000
            if n % 3 == 0:
                phone = f"+44 {prefix} {tail:06d}"
            elif n % 3 == 1:
                phone = f"44{prefix}{tail:06d}"
            else:
                phone = f"0{prefix} {tail:06d}"
            fh.write(
                f"Person {n},{phone},person{n}@example.com,"
                f'"bench;group {n % 10}",{"gold" if n % 2 else "silver"}\n'
            )


def _prepare(path: Path) -> tuple[int, int]:
    """A workspace, the attribute, and the import uploaded, mapped and
    started (its job is run below, by the child, not by a worker)."""
    from django.core.files import File

    from parley.accounts.models import User
    from parley.core.tenant import workspace_context
    from parley.crm.models import AttributeDefinition
    from parley.tenancy.actions import do_create_workspace
    from parley.tenancy.actor import Actor
    from parley.transfer.actions import do_start_import, do_update_import, do_upload_import

    owner = User.objects.create_user("owner@import.bench", "bench-password-123")
    workspace = do_create_workspace(owner=owner, name="Import bench")
    actor = Actor(workspace=workspace, role="owner", user=owner)
    with workspace_context(workspace.pk):
        AttributeDefinition.objects.create(
            workspace=workspace, key="plan", label="Plan", type="choice", choices=["gold", "silver"]
        )
        with path.open("rb") as fh:
            upload = File(fh, name=path.name)
            imp = do_upload_import(actor=actor, upload=upload)
        assert imp.mapping == ["name", "phone", "email", "tags", "attr:plan"], imp.mapping
        do_update_import(actor=actor, imp=imp, default_country="GB", tags=["Imported"])
        do_start_import(actor=actor, imp=imp)
    return workspace.pk, imp.pk


def child(workspace_id: int, import_id: int) -> None:
    """Runs in the subprocess: the job's body, then its own peak RSS."""
    from bench.setup_django import setup

    setup(os.environ["DATABASE_URL"])
    from parley.transfer.tasks import run_import_job

    run_import_job(workspace_id=workspace_id, import_id=import_id)
    status = Path("/proc/self/status").read_text()
    hwm = next(line for line in status.splitlines() if line.startswith("VmHWM"))
    print(f"VMHWM_KB={int(hwm.split()[1])}")


def _copy_baseline(db_url: str, path: Path) -> float:
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "CREATE TEMP TABLE import_scratch (name text, phone text, email text, tags text,"
            " plan text)"
        )
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY import_scratch FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as fh,
        ):
            while chunk := fh.read(1024 * 1024):
                copy.write(chunk)
        conn.commit()
        return time.perf_counter() - started


def run(db_url: str, rows: int | None = None) -> None:
    # PARLEY_IMPORT_ROWS: a smaller file while iterating; the goal is at 1M.
    rows = rows or int(os.environ.get("PARLEY_IMPORT_ROWS", "1000000"))
    from django.core.files.storage import default_storage

    from parley.core.tenant import workspace_context
    from parley.crm.models import Contact, ContactTag
    from parley.transfer.models import ContactImport

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contacts.csv"
        started = time.perf_counter()
        generate(path, rows)
        generated = time.perf_counter() - started
        size_mb = path.stat().st_size / 1e6
        workspace_id, import_id = _prepare(path)

        started = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                f"from bench.crm_import import child; child({workspace_id}, {import_id})",
            ],
            cwd=ROOT,
            env=env_for(db_url),
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        if result.returncode != 0:
            print(result.stdout, result.stderr, sep="\n")
            raise RuntimeError("the import child failed")
        peak_mb = next(
            int(line.split("=")[1]) / 1024
            for line in result.stdout.splitlines()
            if line.startswith("VMHWM_KB=")
        )
        copy_seconds = _copy_baseline(db_url, path)

    with workspace_context(workspace_id):
        imp = ContactImport.objects.get(pk=import_id)
        contacts = Contact.objects.filter(workspace_id=workspace_id).count()
        tags = ContactTag.objects.filter(workspace_id=workspace_id).count()
        default_storage.delete(imp.file)
    report(
        f"contact import: {rows:,} rows ({size_mb:.0f} MB CSV, generated in {generated:.1f} s)",
        [
            ("status", f"{imp.status} ({imp.error or 'no error'})"),
            (
                "result",
                f"{imp.created:,} created, {imp.updated:,} updated, {imp.skipped:,} skipped, "
                f"{imp.rejected:,} rejected; {contacts:,} contacts, {tags:,} contact tags",
            ),
            ("import wall time", f"{wall:.1f} s (goal <= {GOAL_SECONDS:.0f} s)"),
            ("rows per second", f"{rows / wall:,.0f}"),
            ("peak memory (VmHWM)", f"{peak_mb:.0f} MB (goal < {GOAL_MB:.0f} MB)"),
            ("raw COPY of the same rows", f"{copy_seconds:.1f} s (plain table, no checks)"),
            ("import / COPY", f"{wall / copy_seconds:.1f}x"),
            (
                "verdict",
                "PASS"
                if wall <= GOAL_SECONDS and peak_mb < GOAL_MB and imp.created == rows
                else "FAIL",
            ),
        ],
    )
