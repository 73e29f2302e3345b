"""What each step type does. Every executor runs inside the run's
transaction (except the HTTP call's request itself, which cannot be rolled
back: see ``http_request``) and goes through the owning app's actions, so
a workflow's change looks exactly like a person's: live updates, histories,
domain events (which is how one workflow can trigger another, and why
triggers.py guards against loops)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from parley.core.errors import ActionError
from parley.crm.models import Contact
from parley.inbox.models import Conversation
from parley.tenancy.actor import Actor
from parley.tenancy.models import Workspace
from parley.workflows.conditions import holds
from parley.workflows.context import Facts

HTTP_TIMEOUT = 10.0
BODY_LIMIT = 64 * 1024


class StepError(Exception):
    """The step could not do its work; the run fails with this message."""


@dataclass
class Result:
    outcome: dict[str, Any] = field(default_factory=dict)
    branch: str = ""  # take this branch of the step
    wait_until: datetime | None = None
    awaiting_reply: bool = False
    stop: bool = False
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scope:
    """What a step acts on."""

    workspace: Workspace
    actor: Actor
    facts: Facts
    contact: Contact | None
    conversation: Conversation | None
    run_id: int
    path: str
    dry_run: bool = False


Executor = Callable[[dict[str, Any], Scope], Result]


def _contact(scope: Scope) -> Contact:
    if scope.contact is None:
        raise StepError("This run has no contact to act on.")
    return scope.contact


def _conversation(scope: Scope) -> Conversation:
    if scope.conversation is None:
        raise StepError("The contact has no conversation to send in.")
    return scope.conversation


def _send_text(step: dict[str, Any], scope: Scope) -> Result:
    from parley.inbox.actions import do_send_text

    text = scope.facts.render(str(step.get("text") or ""))
    message = do_send_text(actor=scope.actor, conversation=_conversation(scope), text=text)
    return Result({"message_id": message.pk, "text": text})


def _send_template(step: dict[str, Any], scope: Scope) -> Result:
    from parley.inbox.actions import do_send_template

    params = [scope.facts.render(str(p)) for p in step.get("params") or []]
    message = do_send_template(
        actor=scope.actor,
        conversation=_conversation(scope),
        name=str(step.get("name") or ""),
        language=str(step.get("language") or "en_US"),
        body_parameters=params,
    )
    return Result({"message_id": message.pk, "template": step.get("name"), "params": params})


def _ask_buttons(step: dict[str, Any], scope: Scope) -> Result:
    from parley.inbox.actions import do_send_buttons

    text = scope.facts.render(str(step.get("text") or ""))
    buttons = [str(b) for b in step.get("buttons") or [] if str(b).strip()]
    message = do_send_buttons(
        actor=scope.actor, conversation=_conversation(scope), body=text, buttons=buttons
    )
    minutes = int(step.get("timeout_minutes") or 60)
    return Result(
        {"message_id": message.pk, "text": text, "buttons": buttons},
        wait_until=scope.facts.now + timedelta(minutes=minutes),
        awaiting_reply=True,
    )


def _tags(step: dict[str, Any], scope: Scope, *, add: bool) -> Result:
    from parley.crm.actions import do_ensure_tag, do_tag_contacts
    from parley.crm.models import Tag

    contact = _contact(scope)
    names = [str(t).strip() for t in step.get("tags") or [] if str(t).strip()]
    changed = 0
    for name in names:
        if add:
            tag = do_ensure_tag(actor=scope.actor, name=name)
        else:
            found = Tag.objects.filter(workspace=scope.workspace, name__iexact=name).first()
            if found is None:
                continue
            tag = found
        changed += do_tag_contacts(actor=scope.actor, tag=tag, contact_ids=[contact.pk], add=add)
    return Result({"tags": names, "changed": changed})


def _set_attribute(step: dict[str, Any], scope: Scope) -> Result:
    from parley.crm.actions import do_set_attributes

    key = str(step.get("key") or "").strip()
    raw = step.get("value")
    value = scope.facts.render(raw) if isinstance(raw, str) else raw
    do_set_attributes(actor=scope.actor, contact=_contact(scope), values={key: value or None})
    return Result({"key": key, "value": value})


def _assign(step: dict[str, Any], scope: Scope) -> Result:
    from parley.inbox.actions import do_assign

    conversation = _conversation(scope)
    mode = step.get("mode")
    if mode == "team":
        from parley.routing.actions import do_assign_team

        do_assign_team(
            actor=scope.actor, conversation=conversation, team_id=int(step.get("team_id") or 0)
        )
        conversation.refresh_from_db(fields=["assignee"])
        return Result({"team_id": step.get("team_id"), "assignee_id": conversation.assignee_id})
    user_id = int(step["user_id"]) if mode == "user" and step.get("user_id") else None
    do_assign(actor=scope.actor, conversation=conversation, user_id=user_id)
    return Result({"assignee_id": user_id})


def _set_status(step: dict[str, Any], scope: Scope) -> Result:
    from parley.inbox.actions import do_change_status

    status = str(step.get("status") or "")
    do_change_status(actor=scope.actor, conversation=_conversation(scope), status=status)
    return Result({"status": status})


def _add_note(step: dict[str, Any], scope: Scope) -> Result:
    text = scope.facts.render(str(step.get("text") or ""))
    if scope.conversation is not None:
        from parley.inbox.actions import do_add_note

        note = do_add_note(actor=scope.actor, conversation=scope.conversation, body=text)
        return Result({"conversation_note_id": note.pk, "text": text})
    from parley.notes.actions import do_create_note

    contact_note = do_create_note(actor=scope.actor, contact=_contact(scope), body=text)
    return Result({"contact_note_id": contact_note.pk, "text": text})


def _create_task(step: dict[str, Any], scope: Scope) -> Result:
    from parley.todos.actions import do_create_task

    days = int(step.get("due_days") or 0)
    assignee = scope.conversation.assignee_id if scope.conversation is not None else None
    task = do_create_task(
        actor=scope.actor,
        title=scope.facts.render(str(step.get("title") or "")),
        due_at=scope.facts.now + timedelta(days=days) if days else None,
        assignee_id=assignee,
        contact=scope.contact,
    )
    return Result({"task_id": task.pk, "assignee_id": assignee})


def _create_deal(step: dict[str, Any], scope: Scope) -> Result:
    from parley.deals.actions import do_create_deal

    deal = do_create_deal(
        actor=scope.actor,
        title=scope.facts.render(str(step.get("title") or "")),
        contact=scope.contact,
        value=str(step.get("value") or "0"),
    )
    return Result({"deal_id": deal.pk})


def _move_deal(step: dict[str, Any], scope: Scope) -> Result:
    from parley.deals.actions import do_move_deal
    from parley.deals.models import Deal, Stage

    contact = _contact(scope)
    stage = Stage.objects.filter(
        workspace=scope.workspace, pk=int(step.get("stage_id") or 0)
    ).first()
    if stage is None:
        raise StepError("The stage of this step was deleted.")
    deal = (
        Deal.objects.filter(
            workspace=scope.workspace, contact=contact, pipeline_id=stage.pipeline_id
        )
        .order_by("-created_at")
        .first()
    )
    if deal is None:
        raise StepError("The contact has no deal in that pipeline.")
    do_move_deal(actor=scope.actor, deal=deal, stage=stage)
    return Result({"deal_id": deal.pk, "stage_id": stage.pk})


def _drip(step: dict[str, Any], scope: Scope, *, enrol: bool) -> Result:
    from parley.drips import engine
    from parley.drips.models import Sequence

    contact = _contact(scope)
    sequence_id = int(step.get("sequence_id") or 0)
    sequence = Sequence.objects.filter(workspace=scope.workspace, pk=sequence_id).first()
    if sequence is None:
        raise StepError("The drip sequence of this step was deleted.")
    if enrol:
        done = engine.enrol(
            workspace_id=scope.workspace.pk,
            sequence=sequence,
            contact_ids=[contact.pk],
            source="workflow",
        )
        return Result({"sequence_id": sequence.pk, "enrolled": bool(done)})
    ended = engine.exit_contacts(
        workspace_id=scope.workspace.pk,
        contact_ids=[contact.pk],
        reason="workflow",
        sequence_filter={"sequence_id": sequence.pk},
    )
    return Result({"sequence_id": sequence.pk, "removed": ended})


def _wait(step: dict[str, Any], scope: Scope) -> Result:
    until = str(step.get("until") or "").strip()
    now = scope.facts.now
    if until:
        hour, minute = (int(p) for p in until.split(":"))
        local = now.astimezone(scope.facts.zone)
        target = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if target <= local:
            target += timedelta(days=1)
        return Result({"until": target.isoformat()}, wait_until=target)
    minutes = int(step.get("minutes") or 1)
    return Result({"minutes": minutes}, wait_until=now + timedelta(minutes=minutes))


def guard_url(url: str) -> None:
    """Refuse addresses inside our own network (a workflow must not become a
    way to reach the operator's private services): the webhooks' own guard."""
    from parley.integrations.ssrf import RefusedAddress, Unresolvable, check_url

    try:
        check_url(url)
    except (RefusedAddress, Unresolvable) as exc:
        raise StepError(str(exc).replace("webhooks only go", "workflows only call")) from exc


def _http_request(step: dict[str, Any], scope: Scope) -> Result:
    url = scope.facts.render(str(step.get("url") or ""))
    method = str(step.get("method") or "POST")
    body_template = str(step.get("body") or "")
    body = scope.facts.render(body_template) if body_template else ""
    guard_url(url)
    headers = {
        "User-Agent": "Parley-Workflows/1",
        # The call happens before the run's step commits: a crash in between
        # repeats it, and this key lets the receiver notice.
        "Idempotency-Key": f"parley-run-{scope.run_id}-{scope.path}",
    }
    if body:
        headers["Content-Type"] = "application/json" if body.lstrip()[:1] in "{[" else "text/plain"
    try:
        with httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False) as client:
            response = client.request(method, url, content=body.encode() or None, headers=headers)
    except httpx.HTTPError as exc:
        raise StepError(f"{method} {url} failed: {exc.__class__.__name__}: {exc}") from exc
    text = response.text[:BODY_LIMIT]
    try:
        answer: Any = json.loads(text) if text else None
    except ValueError:
        answer = text
    outcome = {"status": response.status_code, "body": text[:2000]}
    if response.status_code >= 400:
        raise StepError(f"{method} {url} answered {response.status_code}: {text[:200]}")
    name = str(step.get("save_as") or "").strip()
    saved = {name: {"status": response.status_code, "body": answer}} if name else {}
    return Result(outcome, variables=saved)


def _condition(step: dict[str, Any], scope: Scope) -> Result:
    taken = "then" if holds(step, scope.facts) else "else"
    return Result({"branch": taken}, branch=taken)


def _stop(step: dict[str, Any], scope: Scope) -> Result:
    return Result({}, stop=True)


EXECUTORS: dict[str, Executor] = {
    "condition": _condition,
    "send_text": _send_text,
    "send_template": _send_template,
    "ask_buttons": _ask_buttons,
    "add_tags": lambda s, c: _tags(s, c, add=True),
    "remove_tags": lambda s, c: _tags(s, c, add=False),
    "set_attribute": _set_attribute,
    "assign": _assign,
    "set_status": _set_status,
    "add_note": _add_note,
    "create_task": _create_task,
    "create_deal": _create_deal,
    "move_deal": _move_deal,
    "drip_enrol": lambda s, c: _drip(s, c, enrol=True),
    "drip_remove": lambda s, c: _drip(s, c, enrol=False),
    "wait": _wait,
    "http_request": _http_request,
    "stop": _stop,
}

# Steps a dry run evaluates for real (they change nothing); the rest are described.
SIDE_EFFECT_FREE = frozenset({"condition", "stop", "wait"})


def execute(step: dict[str, Any], scope: Scope) -> Result:
    try:
        return EXECUTORS[str(step.get("type"))](step, scope)
    except ActionError as exc:
        raise StepError(str(exc)) from exc
    except KeyError as exc:
        raise StepError(f"Unknown step type {step.get('type')!r}.") from exc
