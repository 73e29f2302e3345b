"""A condition step's rules, evaluated against a run's facts."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from parley.workflows.context import Facts


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _business_open(facts: Facts) -> bool:
    from parley.routing.hours import is_open

    return is_open(workspace_id=facts.workspace_id, at=facts.now)


def rule_holds(rule: dict[str, Any], facts: Facts, is_open: Callable[[], bool]) -> bool:
    field = str(rule.get("field") or "")
    op = str(rule.get("op") or "")
    expected = rule.get("value")
    if field == "business_hours":
        return is_open() if op == "is_open" else not is_open()
    actual = facts.value(field)
    if op in ("has_tag", "lacks_tag"):
        names = {n.lower() for n in facts.tag_names}
        has = str(expected or "").strip().lower() in names
        return has if op == "has_tag" else not has
    if op == "is_set":
        return actual not in (None, "", [])
    if op == "is_empty":
        return actual in (None, "", [])
    if op in ("gt", "lt"):
        left, right = _number(actual), _number(expected)
        if left is None or right is None:
            return False
        return left > right if op == "gt" else left < right
    text = "" if actual is None else str(actual).lower()
    wanted = "" if expected is None else str(expected).lower()
    if op == "equals":
        return text.strip() == wanted.strip()
    if op == "not_equals":
        return text.strip() != wanted.strip()
    if op == "contains":
        return wanted in text
    if op == "not_contains":
        return wanted not in text
    if op == "starts_with":
        return text.startswith(wanted)
    if op == "matches":
        # Validated on save (definition.check_pattern); input is capped.
        return re.search(str(expected or ""), str(actual or "")[:4096], re.IGNORECASE) is not None
    return False


def holds(step: dict[str, Any], facts: Facts) -> bool:
    """All (or, with match "any", one) of the step's rules hold."""
    cache: dict[str, bool] = {}

    def is_open() -> bool:
        if "open" not in cache:
            cache["open"] = _business_open(facts)
        return cache["open"]

    results = (rule_holds(rule, facts, is_open) for rule in step.get("rules") or [])
    return any(results) if step.get("match") == "any" else all(results)
