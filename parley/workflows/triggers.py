"""From domain events to workflow runs.

The handlers run inside the emitting transaction, some on the inbound hot
path: they read the workspace's enabled workflows from a per-process summary
(core/interest: no query of their own while it holds), match in memory, and
everything one telling of events starts goes out as one start job at its end
(``domain_events.at_end``).

Loops: a run's steps execute with ``engine.current_chain`` set, so events
they cause start runs carrying that chain, and a workflow already in it is
refused (and logged) instead of triggering itself forever."""

from __future__ import annotations

import contextvars
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from parley.core import domain_events, interest
from parley.workflows.models import RunStatus, Workflow, WorkflowRun

Subject = dict[str, Any]


def _load_enabled(workspace_id: int) -> list[tuple[int, str, dict[str, Any]]]:
    return list(
        Workflow.objects.filter(workspace_id=workspace_id, enabled=True)
        .order_by("id")
        .values_list("id", "trigger_type", "trigger")
    )


def _enabled(workspace_id: int, *types: str) -> list[tuple[int, str, dict[str, Any]]]:
    """The enabled workflows with these trigger types (cached per process,
    reloaded when the workspace's interest version moves: see core/interest)."""
    every = interest.cached(workspace_id, "workflows", lambda: _load_enabled(workspace_id))
    return [w for w in every if w[1] in types]


# Starts heard during one telling of events, sent as one job at its end:
# {(workspace id, chain): {workflow id: [subject, ...]}}.
_pending: contextvars.ContextVar[
    dict[tuple[int, tuple[int, ...]], dict[int, list[Subject]]] | None
] = contextvars.ContextVar("parley_workflow_starts", default=None)


def _start(workspace_id: int, matched: dict[int, list[Subject]]) -> None:
    from parley.workflows.engine import current_chain

    matched = {w: subjects for w, subjects in matched.items() if subjects}
    if not matched:
        return
    pending = _pending.get()
    if pending is None:
        pending = {}
        _pending.set(pending)
    key = (workspace_id, current_chain.get())
    for workflow_id, subjects in matched.items():
        pending.setdefault(key, {}).setdefault(workflow_id, []).extend(subjects)
    # One job for everything an ingest batch starts (it tells several events).
    domain_events.at_end(_flush)


def _flush() -> None:
    from parley.workflows.tasks import start

    pending = _pending.get() or {}
    _pending.set(None)
    for (workspace_id, chain), starts in pending.items():
        start.defer(
            workspace_id=workspace_id,
            starts=[[workflow_id, subjects] for workflow_id, subjects in starts.items()],
            chain=list(chain),
        )


def message_matches(trigger: Mapping[str, Any], text: str, channel_id: int) -> bool:
    wanted_channel = trigger.get("channel_id")
    if wanted_channel and int(wanted_channel) != channel_id:
        return False
    match = trigger.get("match") or "any"
    if match == "keywords":
        words = set(re.findall(r"\w+", text.lower()))
        phrase = " ".join(text.lower().split())
        for keyword in trigger.get("keywords") or []:
            keyword = " ".join(str(keyword).lower().split())
            if keyword and (keyword in words or (" " in keyword and keyword in phrase)):
                return True
        return False
    if match == "pattern":
        # Checked for catastrophic forms on save; input is capped.
        return re.search(str(trigger.get("pattern") or ""), text[:4096], re.IGNORECASE) is not None
    return True


def on_message_received(workspace_id: int, data: Mapping[str, Any]) -> None:
    messages: list[domain_events.ReceivedMessage] = list(data.get("messages") or [])
    replies = [m for m in messages if m.reply_id]
    if replies:
        _answer_questions(workspace_id, replies)
    workflows = _enabled(workspace_id, "message_received", "button_reply")
    if not workflows:
        return
    matched: dict[int, list[Subject]] = defaultdict(list)
    for workflow_id, kind, trigger in workflows:
        for m in messages:
            if kind == "button_reply":
                wanted = {str(r).strip().lower() for r in trigger.get("reply_ids") or []}
                hit = bool(m.reply_id) and (
                    not wanted or m.reply_id.lower() in wanted or m.text.strip().lower() in wanted
                )
            else:
                hit = m.type != "reaction" and message_matches(trigger, m.text, m.channel_id)
            if hit:
                matched[workflow_id].append(
                    {
                        "contact_id": m.contact_id,
                        "conversation_id": m.conversation_id,
                        "trigger": {
                            "type": kind,
                            "message": {
                                "id": m.message_id,
                                "text": m.text,
                                "type": m.type,
                                "reply_id": m.reply_id,
                            },
                        },
                    }
                )
    _start(workspace_id, matched)


def _answer_questions(workspace_id: int, replies: list[domain_events.ReceivedMessage]) -> None:
    from parley.workflows.tasks import answer_run

    by_conversation = {m.conversation_id: m for m in replies}
    waiting = WorkflowRun.objects.filter(
        workspace_id=workspace_id,
        status=RunStatus.WAITING,
        awaiting_reply=True,
        conversation_id__in=list(by_conversation),
    ).values_list("id", "conversation_id")
    for run_id, conversation_id in waiting:
        reply = by_conversation[int(conversation_id or 0)]
        answer_run.defer(workspace_id=workspace_id, run_id=run_id, reply_id=reply.reply_id)


def _on_conversations(kind: str) -> domain_events.Handler:
    def handler(workspace_id: int, data: Mapping[str, Any]) -> None:
        workflows = _enabled(workspace_id, kind)
        ids = [int(c) for c in data.get("conversation_ids") or []]
        if not workflows or not ids:
            return
        # The contact is looked up when the run starts, in the job.
        subjects = [{"conversation_id": cid, "trigger": {"type": kind}} for cid in ids]
        _start(workspace_id, {w: subjects for w, _k, _t in workflows})

    return handler


def _contacts_subjects(kind: str, data: Mapping[str, Any], **extra: Any) -> list[Subject]:
    return [
        {"contact_id": int(c), "trigger": {"type": kind, **extra}}
        for c in data.get("contact_ids") or []
    ]


def on_contact_created(workspace_id: int, data: Mapping[str, Any]) -> None:
    workflows = _enabled(workspace_id, "contact_created")
    subjects = _contacts_subjects("contact_created", data)
    _start(workspace_id, {w: subjects for w, _k, _t in workflows if subjects})


def _on_tag(kind: str) -> domain_events.Handler:
    def handler(workspace_id: int, data: Mapping[str, Any]) -> None:
        tag_id = int(data.get("tag_id") or 0)
        workflows = [
            w for w, _k, t in _enabled(workspace_id, kind) if int(t.get("tag_id") or 0) == tag_id
        ]
        subjects = _contacts_subjects(kind, data, tag_id=tag_id)
        _start(workspace_id, {w: subjects for w in workflows if subjects})

    return handler


def on_contact_updated(workspace_id: int, data: Mapping[str, Any]) -> None:
    changed = {str(f) for f in data.get("fields") or []}
    if not any(f.startswith("attributes.") for f in changed):
        return
    matched: dict[int, list[Subject]] = {}
    for workflow_id, _kind, trigger in _enabled(workspace_id, "attribute_changed"):
        key = str(trigger.get("key") or "")
        if f"attributes.{key}" in changed:
            matched[workflow_id] = _contacts_subjects("attribute_changed", data, key=key)
    _start(workspace_id, matched)


on_conversation_opened = _on_conversations("conversation_opened")
on_conversation_resolved = _on_conversations("conversation_resolved")
on_contact_tagged = _on_tag("tag_added")
on_contact_untagged = _on_tag("tag_removed")


def subscribe() -> None:
    domain_events.subscribe(domain_events.MESSAGE_RECEIVED, on_message_received)
    domain_events.subscribe(domain_events.CONVERSATION_OPENED, on_conversation_opened)
    domain_events.subscribe(domain_events.CONVERSATION_RESOLVED, on_conversation_resolved)
    domain_events.subscribe(domain_events.CONTACT_CREATED, on_contact_created)
    domain_events.subscribe(domain_events.CONTACT_TAGGED, on_contact_tagged)
    domain_events.subscribe(domain_events.CONTACT_UNTAGGED, on_contact_untagged)
    domain_events.subscribe(domain_events.CONTACT_UPDATED, on_contact_updated)
