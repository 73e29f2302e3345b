"""Campaign sending: broadcast rate against the number's cap, fairness
between workspaces, and how late scheduled messages fire.

Parley's web server (for status webhooks), one worker process for the
outbox queue and one for the rest, and the Cloud API simulator as its own
process, all on 127.0.0.1. The simulator enforces the cap itself (a sliding
one-second window answering 130429 above it), so "never above the cap" is
checked by Meta's side: every item must go out on its first attempt.

Goals (issue 5): rate / cap >= 0.95 and <= 1.0 with 100,000 recipients at a
cap of 1,000/s and 20 ms latency; ten workspaces of 10,000 at once: aggregate
rate and fairness; 10,000 scheduled messages due within one minute: lateness
p99 <= 1 s."""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from procrastinate.exceptions import AlreadyEnqueued

from bench import common

TEMPLATE = "bench_promo"
# The three measurements, each runnable alone (`--parts scheduled`).
PARTS = frozenset({"broadcast", "fairness", "scheduled"})
BODY = "Hi {{1}}, your code is {{2}}."


def _simulator(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "parley.whatsapp.simulator",
        "--port",
        str(port),
        "--log-level",
        "error",
    ]


def _outbox_worker(concurrency: int) -> list[str]:
    return [*common.worker_command(concurrency), "--queues", "outbox"]


def _other_worker() -> list[str]:
    return [*common.worker_command(8), "--queues", "default,ingest,send,media"]


def _tenant(
    name: str, sim: Any, web: str, *, cap: int, contacts: int, prefix: str
) -> dict[str, Any]:
    """A workspace, a channel registered with the simulator, an approved
    template, and ``contacts`` opted-in contacts (one INSERT ... SELECT)."""
    from django.db import connection

    from bench.setup_django import make_channel_tenant
    from parley.core.tenant import workspace_context
    from parley.whatsapp.models import Channel, MessageTemplate

    ws, key, pnid, secret = make_channel_tenant(name)
    components = [{"type": "BODY", "text": BODY, "example": {"body_text": [["Ann", "X1"]]}}]
    with workspace_context(ws):
        channel = Channel.objects.get(phone_number_id=pnid)
        Channel.objects.filter(pk=channel.pk).update(
            throughput_cap=cap, messaging_limit_tier="TIER_UNLIMITED"
        )
        template = MessageTemplate.objects.create(
            workspace_id=ws,
            channel=channel,
            name=TEMPLATE,
            language="en_US",
            category="MARKETING",
            status="APPROVED",
            components=components,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                """INSERT INTO crm_contact (workspace_id, wa_id, phone_e164, name, profile_name,
                       email, created_at, updated_at, consent, consent_source, attributes)
                   SELECT %s, %s || lpad(n::text, 7, '0'), '+' || %s || lpad(n::text, 7, '0'),
                          'Customer ' || n, '', '', now(), now(), 'opted_in', '', '{}'::jsonb
                     FROM generate_series(1, %s) AS n""",
                [ws, prefix, prefix, contacts],
            )
    sim.register_number(
        pnid,
        access_token="bench-token-0123456789",
        app_secret=secret,
        webhook_url=f"{web}/webhooks/whatsapp/{key}",
        waba_id=channel.waba_id,
        throughput_per_second=cap,
        messaging_limit_tier="TIER_UNLIMITED",
        send_read_status=False,
    )
    sim.seed_template(channel.waba_id, TEMPLATE, components=components, category="MARKETING")
    return {"ws": ws, "channel": channel.pk, "template": template.pk, "pnid": pnid}


def _plan_all(t: dict[str, Any], *, source: str, not_before: datetime | None = None) -> int:
    from parley.core.tenant import workspace_context
    from parley.outbox import actions

    mapping = {
        "1": {"source": "field", "field": "first_name", "fallback": "there"},
        "2": {"source": "static", "value": "SPRING"},
    }
    with workspace_context(t["ws"]):
        content = actions.create_content(
            workspace_id=t["ws"], template_id=t["template"], mapping=mapping
        )
        return actions.plan_query(
            workspace_id=t["ws"],
            channel_id=t["channel"],
            content_id=content.pk,
            source=source,
            source_id=1,
            contact_ids=(
                "SELECT id FROM crm_contact WHERE workspace_id = %s ORDER BY id",
                [t["ws"]],
            ),
            not_before=not_before,
        )


def _finished_times(db_url: str, ws: int) -> tuple[list[float], int, int]:
    """(when Meta answered each sent item, items not sent, items with more than
    one attempt). The answer time is the message's sent_at, taken as the
    answer arrived, not when it was saved."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SELECT set_config('parley.cross_tenant', 'on', false)")
        rows = conn.execute(
            """SELECT extract(epoch FROM m.sent_at), i.state, i.attempts
                 FROM outbox_outbounditem i LEFT JOIN inbox_message m ON m.id = i.message_id
                WHERE i.workspace_id = %s""",
            [ws],
        ).fetchall()
    sent = [float(r[0]) for r in rows if r[1] == "sent" and r[0] is not None]
    return sent, sum(1 for r in rows if r[1] != "sent"), sum(1 for r in rows if r[2] > 1)


def _wait_done(db_url: str, workspaces: list[int], expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SELECT set_config('parley.cross_tenant', 'on', false)")
        while time.monotonic() < deadline:
            (done,) = conn.execute(
                """SELECT count(*) FROM outbox_outbounditem
                    WHERE workspace_id = ANY(%s) AND state IN ('sent', 'failed', 'skipped')""",
                [workspaces],
            ).fetchone() or (0,)
            if done >= expected:
                return
            time.sleep(0.5)
    raise RuntimeError(f"not finished in {timeout:.0f} s")


def _dispatcher_runs(db_url: str) -> int:
    """How many times a dispatcher job started: each start is a new sender
    process, which knows the last one's sends only through the channel's
    pacing_tail (one run expected here)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        (runs,) = conn.execute(
            """SELECT count(*) FROM procrastinate_events e
                 JOIN procrastinate_jobs j ON j.id = e.job_id
                WHERE j.task_name = 'outbox.dispatch' AND e.type = 'started'"""
        ).fetchone() or (0,)
    return int(runs)


def _held(log: Path) -> dict[str, float]:
    """The dispatcher slices' answer times (the worker's ``outbox_slice``
    lines): the pacing Window holds each send from its start until a second
    after its answer, so the mean answer time bounds the rate. Weighted by
    the sends of each slice; the p99 is the worst slice's."""
    slices = []
    for line in log.read_text(errors="replace").splitlines():
        if '"outbox_slice"' in line:
            with contextlib.suppress(ValueError):
                slices.append(json.loads(line))
    timed = [s for s in slices if "answer_ms_mean" in s and s.get("sent")]
    if not timed:
        return {"mean": float("nan"), "p99": float("nan"), "ceiling": float("nan")}
    sent = sum(s["sent"] for s in timed)
    mean = sum(s["answer_ms_mean"] * s["sent"] for s in timed) / sent
    return {
        "mean": mean,
        "p99": max(s["answer_ms_p99"] for s in timed),
        "ceiling": 1 / (1 + mean / 1000),
    }


def _failed_jobs(log: Path) -> int:
    """Jobs the outbox worker reports as ended in error (such as a pool
    timeout). A dispatcher is not retried: the clock starts its channel again
    on its next tick, and the channel loses the time in between."""
    return sum(
        1
        for line in log.read_text(errors="replace").splitlines()
        if "ended with status: Error" in line
    )


def _keep_if_failed(log: Path) -> int:
    """``_failed_jobs``; the log is kept (its path printed) when a job
    failed, since it holds the traceback, and removed otherwise."""
    failed = _failed_jobs(log)
    if failed:
        print(f"  (a job failed: the outbox worker's log is kept at {log})", file=sys.stderr)
    else:
        log.unlink()
    return failed


def _max_per_second(times: list[float]) -> int:
    """The most sends in any one-second window (sliding)."""
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def _kick(ts: list[dict[str, Any]]) -> None:
    from parley.core.tenant import workspace_context
    from parley.outbox.tasks import defer_dispatch

    for t in ts:
        with workspace_context(t["ws"]):
            defer_dispatch(t["ws"], t["channel"])


def run(
    *,
    db_url: str,
    recipients: int = 100_000,
    cap: int = 1000,
    workspaces: int = 10,
    per_workspace: int = 10_000,
    scheduled: int = 10_000,
    parts: frozenset[str] = PARTS,
) -> None:
    from parley.whatsapp.simulator.client import SimulatorClient

    web_port, sim_port = common.free_port(), common.free_port()
    web = f"http://127.0.0.1:{web_port}"
    graph = f"http://127.0.0.1:{sim_port}"
    env = common.env_for(db_url, WHATSAPP_GRAPH_URL=graph, WHATSAPP_AMBIGUOUS_GRACE_SECONDS="30")
    with common.processes([(_simulator(sim_port), env), (common.web_command(web_port), env)]):
        common.wait_http(f"{web}/healthz")
        common.wait_http(f"{graph}/_sim/health")
        sim = SimulatorClient(graph)
        sim.set_faults(latency_ms=20)
        # The outbox worker's log, read for its slices' figures.
        outbox_env = {**env, "LOG_LEVEL": "INFO", "LOG_FORMAT": "json"}

        if "broadcast" in parts:
            # 1. One channel at 1,000/s, 100,000 recipients.
            big = _tenant("Broadcast", sim, web, cap=cap, contacts=recipients, prefix="1700")
            planned = _plan_all(big, source="broadcast")
            slices_log = Path(tempfile.mkstemp(prefix="parley-bench-outbox-", suffix=".log")[1])
            with common.processes(
                [(_outbox_worker(4), outbox_env), (_other_worker(), env)],
                captured={0: slices_log},
            ):
                time.sleep(3)
                _kick([big])
                _wait_done(db_url, [big["ws"]], planned, timeout=recipients / cap * 3 + 120)
            held = _held(slices_log)
            failed_jobs = _keep_if_failed(slices_log)
            sent, unsent, retried = _finished_times(db_url, big["ws"])
            span = max(sent) - min(sent) if sent else float("nan")
            rate = len(sent) / span if span else float("nan")
            peak = _max_per_second(sent)
            runs = _dispatcher_runs(db_url)
            common.report(
                f"broadcast: {recipients:,} recipients, cap {cap}/s, simulator latency 20 ms  "
                "[python -m bench --only campaigns]",
                [
                    ("sent / not sent", f"{len(sent):,} / {unsent:,}"),
                    ("items retried (130429 or error)", f"{retried:,}"),
                    ("first to last send", f"{span:.1f} s"),
                    ("achieved rate", f"{rate:,.0f} /s"),
                    ("rate / cap", f"{rate / cap:.3f}  (goal >= 0.95 and <= 1.0)"),
                    ("dispatcher job runs (slices)", f"{runs}"),
                    ("dispatcher jobs that failed", f"{failed_jobs}"),
                    (
                        "send start to answer, mean / p99 (slowest slice)",
                        f"{held['mean']:.1f} / {held['p99']:.1f} ms",
                    ),
                    (
                        "pacing window's ceiling, cap / (1 s + mean)",
                        f"{held['ceiling']:.3f} of cap",
                    ),
                    (
                        "busiest one-second window (answers)",
                        f"{peak:,} ({peak / cap:.3f} of cap; the simulator refuses arrivals over it)",
                    ),
                ],
            )

        if "fairness" in parts:
            # 2. Ten workspaces at once, 10,000 each, default cap 80/s.
            many = [
                _tenant(f"Fair{n}", sim, web, cap=80, contacts=per_workspace, prefix=f"18{n:02d}")
                for n in range(workspaces)
            ]
            for t in many:
                _plan_all(t, source="broadcast")
            slices_log = Path(tempfile.mkstemp(prefix="parley-bench-outbox-", suffix=".log")[1])
            with common.processes(
                [(_outbox_worker(12), outbox_env), (_other_worker(), env)],
                captured={0: slices_log},
            ):
                time.sleep(3)
                started = time.time()
                _kick(many)
                _wait_done(
                    db_url,
                    [t["ws"] for t in many],
                    workspaces * per_workspace,
                    timeout=per_workspace / 80 * 3 + 120,
                )
            failed_jobs = _keep_if_failed(slices_log)
            rates, ends, firsts = [], [], []
            total_sent = 0
            for t in many:
                s, _u, _r = _finished_times(db_url, t["ws"])
                total_sent += len(s)
                rates.append(len(s) / (max(s) - started))
                ends.append(max(s) - started)
                firsts.append(min(s) - started)
            wall = max(ends)
            common.report(
                f"fairness: {workspaces} workspaces x {per_workspace:,} recipients at once, cap 80/s each",
                [
                    (
                        "aggregate rate",
                        f"{total_sent / wall:,.0f} /s (sum of caps {80 * workspaces}/s)",
                    ),
                    ("slowest / fastest workspace rate", f"{min(rates):.1f} / {max(rates):.1f} /s"),
                    ("fairness (slowest / fastest)", f"{min(rates) / max(rates):.3f}"),
                    ("last workspace done after", f"{wall:.1f} s"),
                    ("last workspace's first send after", f"{max(firsts):.1f} s"),
                    ("dispatcher jobs that failed", f"{failed_jobs}"),
                ],
            )

        if "scheduled" in parts:
            # 3. 10,000 scheduled messages due within the same minute.
            when = _tenant("Scheduled", sim, web, cap=1000, contacts=scheduled, prefix="1900")
            lateness = _scheduled(db_url, env, when, scheduled)
            common.report(
                f"scheduled: {scheduled:,} messages due within one minute, cap 1,000/s",
                [
                    ("lateness p50", f"{common.percentile(lateness, 50) * 1000:.0f} ms"),
                    (
                        "lateness p99",
                        f"{common.percentile(lateness, 99) * 1000:.0f} ms  (goal <= 1000 ms)",
                    ),
                    ("lateness max", f"{max(lateness) * 1000:.0f} ms"),
                ],
            )


def _scheduled(db_url: str, env: dict[str, str], t: dict[str, Any], count: int) -> list[float]:
    """Each contact gets one scheduled message, due times spread evenly over
    a minute starting 20 s from now; lateness = sent - due."""
    from django.db import connection
    from django.utils import timezone

    from parley.core.tenant import workspace_context
    from parley.outbox import actions

    start = timezone.now() + timedelta(seconds=20)
    with workspace_context(t["ws"]):
        content = actions.create_content(
            workspace_id=t["ws"],
            template_id=t["template"],
            mapping={
                "1": {"source": "field", "field": "first_name", "fallback": "there"},
                "2": {"source": "static", "value": "LATER"},
            },
        )
        with connection.cursor() as cursor:
            cursor.execute(
                """INSERT INTO outbox_outbounditem (workspace_id, channel_id, contact_id,
                       content_id, "values", source, source_id, lane, not_before, state,
                       reason, attempts, created_at)
                   SELECT %s, %s, id, %s, '{}'::jsonb, 'scheduled', row_number() OVER (ORDER BY id),
                          0, %s + (row_number() OVER (ORDER BY id)) * make_interval(secs => %s),
                          'pending', '', 0, now()
                     FROM crm_contact WHERE workspace_id = %s""",
                [t["ws"], t["channel"], content.pk, start, 60.0 / count, t["ws"]],
            )
    from parley.outbox.tasks import clock

    with common.processes([(_outbox_worker(4), env), (_other_worker(), env)]):
        time.sleep(2)
        # The periodic clock may be queued already (it takes the same lock).
        with contextlib.suppress(AlreadyEnqueued):
            clock.defer(timestamp=int(time.time()))  # type: ignore[call-arg]
        _wait_done(db_url, [t["ws"]], count, timeout=200)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SELECT set_config('parley.cross_tenant', 'on', false)")
        rows = conn.execute(
            """SELECT extract(epoch FROM m.sent_at - i.not_before)
                 FROM outbox_outbounditem i JOIN inbox_message m ON m.id = i.message_id
                WHERE i.workspace_id = %s AND i.state = 'sent'""",
            [t["ws"]],
        ).fetchall()
    return [float(r[0]) for r in rows]
