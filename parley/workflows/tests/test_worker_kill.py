"""A worker killed in the middle of a workflow (real worker processes on the
test database): the run resumes at the step it was on and no finished step
runs again. The step it was on is an HTTP call, the one kind of step that
leaves the building before its commit: its receiver may see it twice, with
the same Idempotency-Key, and the steps around it exactly once."""

from __future__ import annotations

import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from parley.core.tenant import workspace_context
from parley.inbox.models import Message
from parley.workflows.models import RunStatus, WorkflowRun
from parley.workflows.tests.helpers import inbound, live_workflow, text
from tests.factories import make_channel, make_tenant
from tests.workers import manage, start_worker, stop, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


class SlowReceiver(BaseHTTPRequestHandler):
    calls: list[str] = []
    delay = 4.0

    def do_POST(self) -> None:
        SlowReceiver.calls.append(self.headers.get("Idempotency-Key", ""))
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(SlowReceiver.delay)
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def _texts(workspace_id: int) -> list[str]:
    with workspace_context(workspace_id):
        return list(
            Message.objects.filter(direction="out").order_by("id").values_list("text", flat=True)
        )


def _run(workspace_id: int) -> WorkflowRun | None:
    with workspace_context(workspace_id):
        return WorkflowRun.objects.first()


def test_a_killed_worker_resumes_the_run_at_its_step() -> None:
    SlowReceiver.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    tenant = make_tenant("Alpha")
    channel = make_channel(tenant)
    ws = tenant.workspace.pk
    live_workflow(
        tenant,
        {
            "trigger": {"type": "message_received"},
            "steps": [
                {"type": "send_text", "text": "one"},
                {
                    "type": "http_request",
                    "method": "POST",
                    "url": f"http://127.0.0.1:{server.server_port}/hook",
                    "body": '{"contact": "{{contact.phone}}"}',
                    "save_as": "hook",
                },
                {"type": "send_text", "text": "two"},
            ],
        },
    )
    inbound(tenant, channel, "15550009801", text("hello"))
    extra = {"WEBHOOKS_ALLOW_LOOPBACK": "1"}
    first = start_worker(2, **extra)
    try:
        wait_for(lambda: len(SlowReceiver.calls) == 1, timeout=60, what="the HTTP step to start")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    run = _run(ws)
    assert run is not None and run.cursor == "1"  # on the HTTP step, not past it
    assert _texts(ws) == ["one"]
    second = start_worker(2, **extra)
    try:
        # The reaper requeues the dead worker's job (run here, not waiting
        # for its periodic turn).
        wait_for(
            lambda: len(SlowReceiver.calls) == 2 or "Requeued 1" in manage("retry_stalled_jobs"),
            timeout=60,
            what="the reaper",
        )
        wait_for(
            lambda: (r := _run(ws)) is not None and r.status == RunStatus.SUCCEEDED,
            timeout=90,
            what="the second worker to finish the run",
        )
    finally:
        stop(second)
        server.shutdown()
    assert _texts(ws) == ["one", "two"]
    # The HTTP step was the one interrupted: called again, with the same key.
    assert len(SlowReceiver.calls) == 2 and len(set(SlowReceiver.calls)) == 1
    run = _run(ws)
    assert run is not None and run.context["vars"]["hook"]["body"] == {"ok": True}
