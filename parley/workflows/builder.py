"""The builder's view of a definition (a tree of nodes with their paths and
summaries, for the templates) and the reading of its forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from parley.workflows import definition as defn


@dataclass
class Branch:
    name: str
    label: str
    parent: str  # "<step path>.<branch name>": where an insert goes
    nodes: list[Node] = field(default_factory=list)


@dataclass
class Node:
    step: dict[str, Any]
    path: str
    index: int
    label: str
    summary: str
    problems: list[str]
    first: bool
    last: bool
    branches: list[Branch] = field(default_factory=list)


def summary(step: dict[str, Any], names: dict[str, dict[int, str]]) -> str:
    kind = step.get("type")
    if kind in ("send_text", "add_note"):
        return str(step.get("text") or "")[:140]
    if kind == "ask_buttons":
        buttons = " · ".join(str(b) for b in step.get("buttons") or [])
        return f"{str(step.get('text') or '')[:100]} [{buttons}]"
    if kind == "send_template":
        return f"{step.get('name') or '?'} ({step.get('language') or 'en_US'})"
    if kind in ("add_tags", "remove_tags"):
        return ", ".join(str(t) for t in step.get("tags") or [])
    if kind == "set_attribute":
        return f"{step.get('key') or '?'} = {step.get('value') or ''}"
    if kind == "assign":
        if step.get("mode") == "unassign":
            return "Unassign"
        if step.get("mode") == "team":
            return "Team " + names["teams"].get((defn.int_of(step, "team_id") or 0), "?")
        return names["members"].get((defn.int_of(step, "user_id") or 0), "?")
    if kind == "set_status":
        return str(step.get("status") or "")
    if kind in ("create_task", "create_deal"):
        return str(step.get("title") or "")
    if kind == "move_deal":
        return names["stages"].get((defn.int_of(step, "stage_id") or 0), "?")
    if kind in ("drip_enrol", "drip_remove"):
        return names["sequences"].get((defn.int_of(step, "sequence_id") or 0), "?")
    if kind == "wait":
        if step.get("until"):
            return f"until {step['until']}"
        minutes = defn.int_of(step, "minutes") or 0
        if minutes and minutes % 1440 == 0:
            return f"{minutes // 1440} day(s)"
        if minutes and minutes % 60 == 0:
            return f"{minutes // 60} hour(s)"
        return f"{minutes} min"
    if kind == "http_request":
        saved = f" → vars.{step['save_as']}" if step.get("save_as") else ""
        return f"{step.get('method') or 'POST'} {step.get('url') or ''}{saved}"
    if kind == "condition":
        joiner = " or " if step.get("match") == "any" else " and "
        rules = [
            f"{r.get('field')} {defn.OPERATORS.get(str(r.get('op')), r.get('op'))} "
            f"{r.get('value') or ''}".strip()
            for r in step.get("rules") or []
            if isinstance(r, dict)
        ]
        return joiner.join(rules) or "(no rules yet)"
    return ""


def tree(
    steps: list[dict[str, Any]], names: dict[str, dict[int, str]], prefix: defn.Path = ()
) -> list[Node]:
    nodes: list[Node] = []
    for i, step in enumerate(steps):
        path = (*prefix, i)
        text = defn.format_path(path)
        node = Node(
            step=step,
            path=text,
            index=i,
            label=defn.STEPS.get(str(step.get("type")), str(step.get("type"))),
            summary=summary(step, names),
            problems=defn.step_problems(step),
            first=i == 0,
            last=i == len(steps) - 1,
        )
        for name in defn.branch_names(step):
            nested = (step.get("branches") or {}).get(name) or []
            node.branches.append(
                Branch(
                    name=name,
                    label=defn.branch_label(step, name),
                    parent=f"{text}.{name}",
                    nodes=tree(nested, names, (*path, name)),
                )
            )
        nodes.append(node)
    return nodes


def _lines(raw: str) -> list[str]:
    return [line.strip() for line in raw.replace("\r", "").split("\n") if line.strip()]


def _int_or_none(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.lstrip("-").isdigit() else None


def step_values(kind: str, post: QueryDict) -> dict[str, Any]:
    """The settings a step's edit form posted, typed as the definition keeps them."""
    get = post.get
    if kind in ("send_text", "add_note"):
        return {"text": get("text", "")}
    if kind == "send_template":
        return {
            "name": get("name", "").strip(),
            "language": get("language", "en_US").strip() or "en_US",
            "params": _lines(get("params", "")),
        }
    if kind == "ask_buttons":
        return {
            "text": get("text", ""),
            "buttons": _lines(get("buttons", "")),
            "timeout_minutes": _int_or_none(get("timeout_minutes")),
        }
    if kind in ("add_tags", "remove_tags"):
        return {"tags": [t.strip() for t in get("tags", "").split(",") if t.strip()]}
    if kind == "set_attribute":
        return {"key": get("key", "").strip(), "value": get("value", "")}
    if kind == "assign":
        return {
            "mode": get("mode", "user"),
            "user_id": _int_or_none(get("user_id")),
            "team_id": _int_or_none(get("team_id")),
        }
    if kind == "set_status":
        return {"status": get("status", "")}
    if kind == "create_task":
        return {"title": get("title", ""), "due_days": _int_or_none(get("due_days")) or 0}
    if kind == "create_deal":
        return {"title": get("title", ""), "value": get("value", "0").strip() or "0"}
    if kind == "move_deal":
        return {"stage_id": _int_or_none(get("stage_id"))}
    if kind in ("drip_enrol", "drip_remove"):
        return {"sequence_id": _int_or_none(get("sequence_id"))}
    if kind == "wait":
        amount = _int_or_none(get("amount"))
        unit = {"minutes": 1, "hours": 60, "days": 1440}.get(get("unit", "minutes"), 1)
        until = get("until", "").strip()
        return {"minutes": amount * unit if amount is not None else None, "until": until}
    if kind == "http_request":
        return {
            "method": get("method", "POST"),
            "url": get("url", "").strip(),
            "body": get("body", ""),
            "save_as": get("save_as", "").strip(),
        }
    if kind == "condition":
        rules = [
            {"field": f.strip(), "op": o, "value": v}
            for f, o, v in zip(
                post.getlist("rule_field"),
                post.getlist("rule_op"),
                post.getlist("rule_value"),
                strict=False,
            )
            if f.strip()
        ]
        return {"match": get("match", "all"), "rules": rules}
    return {}


def trigger_values(post: QueryDict) -> dict[str, Any]:
    kind = post.get("type", "")
    trigger: dict[str, Any] = {"type": kind}
    if kind == "message_received":
        trigger["match"] = post.get("match", "any")
        trigger["keywords"] = [k.strip() for k in post.get("keywords", "").split(",") if k.strip()]
        trigger["pattern"] = post.get("pattern", "").strip()
        trigger["channel_id"] = _int_or_none(post.get("channel_id"))
    elif kind == "button_reply":
        trigger["reply_ids"] = [
            r.strip() for r in post.get("reply_ids", "").split(",") if r.strip()
        ]
    elif kind in ("tag_added", "tag_removed"):
        trigger["tag_id"] = _int_or_none(post.get("tag_id"))
    elif kind == "attribute_changed":
        trigger["key"] = post.get("key", "").strip()
    elif kind == "schedule":
        trigger["cron"] = post.get("cron", "").strip()
        trigger["segment_id"] = _int_or_none(post.get("segment_id"))
    return trigger


def trigger_summary(trigger: dict[str, Any], names: dict[str, dict[int, str]]) -> str:
    kind = str(trigger.get("type") or "")
    label = defn.TRIGGERS.get(kind, "No trigger")
    if kind == "message_received":
        match = trigger.get("match") or "any"
        if match == "keywords":
            return f"{label}: keywords {', '.join(trigger.get('keywords') or [])}"
        if match == "pattern":
            return f"{label}: matching /{trigger.get('pattern')}/"
        return f"{label}: any message"
    if kind in ("tag_added", "tag_removed"):
        return f"{label}: {names['tags'].get((defn.int_of(trigger, 'tag_id') or 0), '?')}"
    if kind == "attribute_changed":
        return f"{label}: {trigger.get('key')}"
    if kind == "schedule":
        segment = names["segments"].get(int(trigger.get("segment_id") or 0), "?")
        return f"{label}: {trigger.get('cron')} for segment {segment}"
    if kind == "button_reply" and trigger.get("reply_ids"):
        return f"{label}: {', '.join(trigger['reply_ids'])}"
    return label
