"""A dry run: which steps a workflow would run for a chosen contact and
message, deciding conditions for real and doing nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from parley.crm.models import Contact
from parley.tenancy.models import Workspace
from parley.todos.actions import workspace_tz
from parley.workflows import definition as defn
from parley.workflows.conditions import holds
from parley.workflows.context import Facts, load_facts
from parley.workflows.triggers import message_matches


@dataclass(frozen=True)
class Line:
    path: str
    type: str
    label: str
    detail: str


def _describe(step: dict[str, Any], facts: Facts) -> str:
    kind = step.get("type")
    if kind in ("send_text", "add_note"):
        return facts.render(str(step.get("text") or ""))
    if kind == "ask_buttons":
        buttons = " / ".join(str(b) for b in step.get("buttons") or [])
        return f"{facts.render(str(step.get('text') or ''))} [{buttons}]"
    if kind in ("add_tags", "remove_tags"):
        return ", ".join(str(t) for t in step.get("tags") or [])
    if kind == "set_attribute":
        return f"{step.get('key')} = {facts.render(str(step.get('value') or ''))}"
    if kind == "wait":
        return f"until {step['until']}" if step.get("until") else f"{step.get('minutes')} min"
    if kind == "http_request":
        return f"{step.get('method', 'POST')} {facts.render(str(step.get('url') or ''))}"
    if kind == "send_template":
        return str(step.get("name") or "")
    if kind in ("create_task", "create_deal"):
        return facts.render(str(step.get("title") or ""))
    if kind == "set_status":
        return str(step.get("status") or "")
    return ""


def dry_run(
    *, workspace: Workspace, definition: dict[str, Any], contact: Contact | None, text: str
) -> tuple[bool, list[Line]]:
    """(would the trigger fire for this message, the steps in order)."""
    facts = load_facts(
        workspace_id=workspace.pk,
        zone=workspace_tz(workspace),
        now=timezone.now(),
        contact_id=contact.pk if contact is not None else None,
        context={"message": {"text": text}, "vars": {}},
    )
    trigger = definition.get("trigger") or {}
    fires = trigger.get("type") != "message_received" or message_matches(trigger, text, 0)
    lines: list[Line] = []
    path: defn.Path | None = (0,) if definition.get("steps") else None
    while path is not None and len(lines) < defn.MAX_STEPS:
        step = defn.step_at(definition, path)
        if step is None:
            break
        kind = str(step.get("type"))
        label = defn.STEPS.get(kind, kind)
        where = defn.format_path(path)
        if kind == "condition":
            taken = "then" if holds(step, facts) else "else"
            lines.append(Line(where, kind, label, "yes" if taken == "then" else "no"))
            path = defn.first_of_branch(definition, path, taken)
            continue
        lines.append(Line(where, kind, label, _describe(step, facts)))
        if kind == "stop":
            break
        if kind == "ask_buttons":
            lines.append(Line(where, "answer", "Waits for the answer", "each button has a branch"))
            break
        path = defn.next_path(definition, path)
    return fires, lines
