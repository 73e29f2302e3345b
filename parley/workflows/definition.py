"""A workflow's definition: what triggers it and the tree of steps it runs.

``{"trigger": {"type": ..., ...}, "steps": [step, ...]}``. A step is a dict
with a ``type``, its settings, an ``id`` (stable across edits, used by the
builder) and, for steps that branch, ``branches``: named lists of steps
(a condition's "then"/"else"; a question's "b1".."b3" and "timeout").

A step's place is a path: indexes and branch names alternating, written
"2.then.0" (the first step of the "then" branch of the third step). Paths are
only meaningful within one version, which never changes once published.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from croniter import croniter

Step = dict[str, Any]
Definition = dict[str, Any]

TRIGGERS: dict[str, str] = {
    "message_received": "Message received",
    "button_reply": "Button reply received",
    "conversation_opened": "Conversation opened",
    "conversation_resolved": "Conversation resolved",
    "contact_created": "Contact created",
    "tag_added": "Tag added",
    "tag_removed": "Tag removed",
    "attribute_changed": "Attribute changed",
    "schedule": "On a schedule",
    "api": "Incoming API call",
}

STEPS: dict[str, str] = {
    "condition": "Condition",
    "send_text": "Send a message",
    "send_template": "Send a template",
    "ask_buttons": "Ask with buttons",
    "add_tags": "Add tags",
    "remove_tags": "Remove tags",
    "set_attribute": "Set an attribute",
    "assign": "Assign",
    "set_status": "Change status",
    "add_note": "Add a note",
    "create_task": "Create a task",
    "create_deal": "Create a deal",
    "move_deal": "Move a deal",
    "drip_enrol": "Enrol in a drip",
    "drip_remove": "Remove from a drip",
    "wait": "Wait",
    "http_request": "Call an HTTP endpoint",
    "stop": "Stop",
}

# Fields a condition can look at; "contact.attributes.<key>" and "vars.<name>..." too.
CONDITION_FIELDS = {
    "message.text": "Message text",
    "contact.name": "Contact name",
    "contact.email": "Contact email",
    "contact.phone": "Contact phone",
    "contact.tags": "Contact tags",
    "time.hour": "Hour of day",
    "time.weekday": "Day of week (1 = Monday)",
    "business_hours": "Business hours",
}
OPERATORS = {
    "equals": "equals",
    "not_equals": "does not equal",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "matches": "matches pattern",
    "is_set": "is set",
    "is_empty": "is empty",
    "gt": "greater than",
    "lt": "less than",
    "has_tag": "has tag",
    "lacks_tag": "does not have tag",
    "is_open": "is open",
    "is_closed": "is closed",
}

MAX_STEPS = 200
MAX_PATTERN = 200
MAX_BUTTONS = 3
Path = tuple[int | str, ...]


@dataclass(frozen=True)
class Problem:
    path: str  # "" for the trigger, else the step's path
    message: str


def new_id() -> str:
    return uuid.uuid4().hex[:10]


def empty() -> Definition:
    return {"trigger": {"type": "message_received", "match": "any"}, "steps": []}


def branch_names(step: Step) -> list[str]:
    """The branches a step has, in display order."""
    if step.get("type") == "condition":
        return ["then", "else"]
    if step.get("type") == "ask_buttons":
        buttons = [b for b in step.get("buttons") or [] if isinstance(b, str)]
        return [f"b{i}" for i in range(1, len(buttons) + 1)] + ["timeout"]
    return []


def branch_label(step: Step, name: str) -> str:
    if name == "then":
        return "Yes"
    if name == "else":
        return "No"
    if name == "timeout":
        return f"No answer in {step.get('timeout_minutes') or 60} min"
    buttons = step.get("buttons") or []
    index = int(name[1:]) - 1 if name[1:].isdigit() else -1
    return f"“{buttons[index]}”" if 0 <= index < len(buttons) else name


# --- paths -----------------------------------------------------------------


def parse_path(text: str) -> Path:
    parts: list[int | str] = []
    for i, part in enumerate(text.split(".")) if text else []:
        if i % 2 == 0:
            if not part.isdigit():
                raise ValueError(f"bad step path {text!r}")
            parts.append(int(part))
        else:
            parts.append(part)
    if len(parts) % 2 == 0:
        raise ValueError(f"bad step path {text!r}")
    return tuple(parts)


def format_path(path: Path) -> str:
    return ".".join(str(p) for p in path)


def step_list(definition: Definition, parent: Path) -> list[Step] | None:
    """The list a path's last index points into (``parent`` = the path minus its index)."""
    steps = definition.get("steps")
    if not isinstance(steps, list):
        return None
    current: list[Step] = steps
    for i in range(0, len(parent), 2):
        index, branch = parent[i], parent[i + 1]
        if not isinstance(index, int) or index >= len(current) or not isinstance(branch, str):
            return None
        branches = current[index].setdefault("branches", {})
        nested = branches.setdefault(branch, [])
        if not isinstance(nested, list):
            return None
        current = nested
    return current


def step_at(definition: Definition, path: Path) -> Step | None:
    if not path:
        return None
    siblings = step_list(definition, path[:-1])
    index = path[-1]
    if siblings is None or not isinstance(index, int) or index >= len(siblings):
        return None
    return siblings[index]


def next_path(definition: Definition, path: Path) -> Path | None:
    """The step that follows ``path`` once it (and any branch it took) is done:
    its next sibling, else the next sibling of the step whose branch it ends."""
    while path:
        siblings = step_list(definition, path[:-1]) or []
        index = path[-1]
        assert isinstance(index, int)
        if index + 1 < len(siblings):
            return (*path[:-1], index + 1)
        path = path[:-2]
    return None


def first_of_branch(definition: Definition, path: Path, branch: str) -> Path | None:
    """The first step of ``branch`` of the step at ``path``; if the branch is
    empty, whatever follows that step."""
    nested = step_list(definition, (*path, branch))
    if nested:
        return (*path, branch, 0)
    return next_path(definition, path)


def walk(steps: list[Step], prefix: Path = ()) -> list[tuple[Path, Step]]:
    out: list[tuple[Path, Step]] = []
    for i, step in enumerate(steps):
        path = (*prefix, i)
        out.append((path, step))
        for name in branch_names(step):
            nested = (step.get("branches") or {}).get(name) or []
            out.extend(walk(nested, (*path, name)))
    return out


# --- editing (the builder) -------------------------------------------------


def insert(definition: Definition, parent: Path, index: int, step: Step) -> None:
    siblings = step_list(definition, parent)
    if siblings is None:
        raise ValueError("That place in the workflow no longer exists; reload the page.")
    siblings.insert(max(0, min(index, len(siblings))), step)


def remove(definition: Definition, path: Path) -> Step:
    siblings = step_list(definition, path[:-1])
    index = path[-1]
    if siblings is None or not isinstance(index, int) or index >= len(siblings):
        raise ValueError("That step no longer exists; reload the page.")
    return siblings.pop(index)


def move(definition: Definition, path: Path, offset: int) -> None:
    siblings = step_list(definition, path[:-1])
    index = path[-1]
    if siblings is None or not isinstance(index, int) or index >= len(siblings):
        raise ValueError("That step no longer exists; reload the page.")
    target = index + offset
    if 0 <= target < len(siblings):
        siblings[index], siblings[target] = siblings[target], siblings[index]


def find_by_id(definition: Definition, step_id: str) -> Path | None:
    for path, step in walk(definition.get("steps") or []):
        if step.get("id") == step_id:
            return path
    return None


# --- validation -------------------------------------------------------------


def _text(step: Step, key: str, limit: int = 4096) -> str:
    value = step.get(key)
    return value.strip()[:limit] if isinstance(value, str) else ""


def int_of(step: Step, key: str) -> int | None:
    """An id or amount as typed in a draft (which may come from the API as
    any JSON): the integer, or None."""
    return _int(step, key)


def _int(step: Step, key: str) -> int | None:
    value = step.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def check_pattern(pattern: str) -> str:
    """An error message for a pattern we will not run, or ""."""
    if not pattern:
        return "Write a pattern."
    if len(pattern) > MAX_PATTERN:
        return f"Patterns are limited to {MAX_PATTERN} characters."
    # Nested quantifiers are how a pattern takes exponential time on a
    # crafted message; inbound text is attacker-controlled.
    if re.search(r"\([^)]*[+*][^)]*\)\s*[+*{]", pattern):
        return "Nested repetition like (a+)+ can take forever on some messages; simplify it."
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"The pattern does not compile: {exc}."
    return ""


def trigger_problems(trigger: Any) -> list[str]:
    if not isinstance(trigger, dict) or trigger.get("type") not in TRIGGERS:
        return ["Choose what starts this workflow."]
    kind = trigger["type"]
    problems: list[str] = []
    if kind == "message_received":
        match = trigger.get("match") or "any"
        if match == "keywords":
            words = [w for w in trigger.get("keywords") or [] if isinstance(w, str) and w.strip()]
            if not words:
                problems.append("List at least one keyword.")
        elif match == "pattern":
            error = check_pattern(str(trigger.get("pattern") or ""))
            if error:
                problems.append(error)
        elif match != "any":
            problems.append("Match any message, keywords or a pattern.")
    elif kind in ("tag_added", "tag_removed"):
        if _int(trigger, "tag_id") is None:
            problems.append("Choose the tag.")
    elif kind == "attribute_changed":
        if not str(trigger.get("key") or "").strip():
            problems.append("Choose the attribute.")
    elif kind == "schedule":
        cron = str(trigger.get("cron") or "").strip()
        if not cron or not croniter.is_valid(cron) or len(cron.split()) != 5:
            problems.append(
                "Write the schedule as a cron line, e.g. '0 9 * * 1-5' (9:00 weekdays)."
            )
        if _int(trigger, "segment_id") is None:
            problems.append("Choose the segment whose contacts it runs for.")
    return problems


def step_problems(step: Step) -> list[str]:
    kind = step.get("type")
    if kind not in STEPS:
        return [f"Unknown step type {kind!r}."]
    problems: list[str] = []
    if kind in ("send_text", "add_note") and not _text(step, "text"):
        problems.append("Write the text.")
    if kind == "send_text" and len(_text(step, "text", 10_000)) > 4096:
        problems.append("A WhatsApp text holds at most 4096 characters.")
    if kind == "send_template" and not _text(step, "name"):
        problems.append("Choose the template.")
    if kind == "ask_buttons":
        buttons = [b for b in step.get("buttons") or [] if isinstance(b, str) and b.strip()]
        if not _text(step, "text"):
            problems.append("Write the question.")
        if not 1 <= len(buttons) <= MAX_BUTTONS:
            problems.append("Give one to three buttons.")
        if any(len(b.strip()) > 20 for b in buttons):
            problems.append("Button titles hold at most 20 characters.")
        minutes = _int(step, "timeout_minutes")
        if minutes is None or not 1 <= minutes <= 60 * 24 * 7:
            problems.append("Wait between 1 minute and 7 days for the answer.")
    if kind in ("add_tags", "remove_tags"):
        tags = [t for t in step.get("tags") or [] if isinstance(t, str) and t.strip()]
        if not tags:
            problems.append("Name at least one tag.")
    if kind == "set_attribute" and not _text(step, "key"):
        problems.append("Choose the attribute.")
    if kind == "assign":
        mode = step.get("mode")
        if mode == "user" and _int(step, "user_id") is None:
            problems.append("Choose the agent.")
        elif mode == "team" and _int(step, "team_id") is None:
            problems.append("Choose the team.")
        elif mode not in ("user", "team", "unassign"):
            problems.append("Assign to an agent, a team, or unassign.")
    if kind == "set_status" and step.get("status") not in ("open", "pending", "resolved"):
        problems.append("Choose open, pending or resolved.")
    if kind == "create_task" and not _text(step, "title"):
        problems.append("Give the task a title.")
    if kind == "create_task":
        days = _int(step, "due_days") if step.get("due_days") not in (None, "") else 0
        if days is None or not 0 <= days <= 3650:
            problems.append("Make the task due in 0 to 3650 days.")
    if kind == "create_deal" and not _text(step, "title"):
        problems.append("Give the deal a title.")
    if kind == "move_deal" and _int(step, "stage_id") is None:
        problems.append("Choose the stage.")
    if kind in ("drip_enrol", "drip_remove") and _int(step, "sequence_id") is None:
        problems.append("Choose the drip sequence.")
    if kind == "wait":
        minutes = _int(step, "minutes")
        until = _text(step, "until")
        if until:
            if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", until):
                problems.append("Wait until a time written HH:MM.")
        elif minutes is None or not 1 <= minutes <= 60 * 24 * 90:
            problems.append("Wait between 1 minute and 90 days, or until a time of day.")
    if kind == "http_request":
        url = _text(step, "url", 2000)
        if not re.match(r"^https?://", url):
            problems.append("Call an http:// or https:// address.")
        if step.get("method", "POST") not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            problems.append("Use GET, POST, PUT, PATCH or DELETE.")
        save_as = _text(step, "save_as")
        if save_as and not re.fullmatch(r"[a-z_][a-z0-9_]{0,30}", save_as):
            problems.append("Save the answer under a name of lower-case letters, digits and _.")
    if kind == "condition":
        rules = step.get("rules") or []
        if not rules:
            problems.append("Add at least one rule.")
        for rule in rules:
            problems.extend(rule_problems(rule))
    return problems


def rule_problems(rule: Any) -> list[str]:
    if not isinstance(rule, dict):
        return ["A rule is broken; delete it and add it again."]
    field = str(rule.get("field") or "")
    op = rule.get("op")
    if not (
        field in CONDITION_FIELDS
        or field.startswith("contact.attributes.")
        or field.startswith("vars.")
    ):
        return [f"Unknown field {field!r}."]
    if op not in OPERATORS:
        return [f"Unknown comparison {op!r}."]
    if op == "matches":
        error = check_pattern(str(rule.get("value") or ""))
        if error:
            return [error]
    if op in ("gt", "lt"):
        try:
            float(str(rule.get("value")))
        except ValueError:
            return ["Compare with a number."]
    return []


def problems(definition: Definition) -> list[Problem]:
    """Everything that keeps this definition from being turned on."""
    found = [Problem("", p) for p in trigger_problems(definition.get("trigger"))]
    steps = definition.get("steps")
    if not isinstance(steps, list) or not steps:
        return [*found, Problem("", "Add at least one step.")]
    walked = walk(steps)
    if len(walked) > MAX_STEPS:
        found.append(Problem("", f"A workflow holds at most {MAX_STEPS} steps."))
    for path, step in walked:
        found.extend(Problem(format_path(path), p) for p in step_problems(step))
    return found
