"""Condition rules and text placeholders, on facts built by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from parley.crm.models import Contact
from parley.workflows import definition as defn
from parley.workflows.conditions import holds, rule_holds
from parley.workflows.context import Facts


def _facts() -> Facts:
    contact = Contact(name="Maria Lopez", wa_id="34600111222", attributes={"orders": 7})
    return Facts(
        workspace_id=1,
        # 08:30 UTC is 09:30 in Madrid in November.
        now=datetime(2026, 11, 23, 8, 30, tzinfo=UTC),
        zone=ZoneInfo("Europe/Madrid"),
        contact=contact,
        tag_names={"VIP"},
        message_text="Where is order #123?",
        variables={"shop": {"status": 200, "body": {"order": {"state": "shipped"}}}},
    )


def test_rules_compare_each_kind_of_field() -> None:
    facts = _facts()

    def rule(field: str, op: str, value: str = "") -> bool:
        return rule_holds({"field": field, "op": op, "value": value}, facts, lambda: False)

    assert rule("message.text", "contains", "ORDER")
    assert rule("message.text", "matches", r"#\d+")
    assert not rule("message.text", "starts_with", "hello")
    assert rule("contact.attributes.orders", "gt", "5")
    assert not rule("contact.attributes.orders", "lt", "5")
    assert rule("contact.tags", "has_tag", "vip") and rule("contact.tags", "lacks_tag", "Lead")
    assert rule("time.hour", "gt", "9") and rule("time.hour", "lt", "10")  # local time
    assert rule("time.weekday", "equals", "1")  # a Monday
    assert rule("vars.shop.body.order.state", "equals", "shipped")
    assert rule("contact.email", "is_empty") and not rule("contact.name", "is_empty")
    assert rule("business_hours", "is_closed") and not rule("business_hours", "is_open")


def test_all_or_any() -> None:
    facts = _facts()
    rules = [
        {"field": "message.text", "op": "contains", "value": "order"},
        {"field": "contact.name", "op": "equals", "value": "nobody"},
    ]
    assert not holds({"match": "all", "rules": rules}, facts)
    assert holds({"match": "any", "rules": rules}, facts)


def test_placeholders_render_and_unknown_ones_stay_empty() -> None:
    facts = _facts()
    text = "Hi {{contact.first_name}}, order is {{vars.shop.body.order.state}}{{nope.x}}."
    assert facts.render(text) == "Hi Maria, order is shipped."


def test_catastrophic_patterns_are_refused() -> None:
    assert "Nested repetition" in defn.check_pattern("(a+)+$")
    assert "does not compile" in defn.check_pattern("(unclosed")
    assert defn.check_pattern(r"order\s*#?\d+") == ""


def test_paths_walk_branches_and_come_back() -> None:
    definition = {
        "steps": [
            {
                "type": "condition",
                "branches": {"then": [{"type": "stop"}, {"type": "stop"}], "else": []},
            },
            {"type": "stop"},
        ]
    }
    assert defn.next_path(definition, (0, "then", 0)) == (0, "then", 1)
    assert defn.next_path(definition, (0, "then", 1)) == (1,)
    assert defn.first_of_branch(definition, (0,), "else") == (1,)
    assert defn.next_path(definition, (1,)) is None
    assert defn.parse_path("0.then.1") == (0, "then", 1)
