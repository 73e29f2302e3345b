"""Every change to auto-tag rules. Each bumps the workspace's rules version,
which is how every process learns its compiled copy is stale."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from parley.autotag.matching import CompiledRule, compile_rule
from parley.autotag.models import Rule
from parley.core import interest
from parley.core.errors import ActionError
from parley.crm.models import AttributeDefinition, Tag
from parley.tenancy.actions import record
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap

MAX_RULES = 500
MANAGE = Cap.WORKSPACE_MANAGE


@dataclass
class RuleFields:
    name: str
    kind: str = Rule.Kind.KEYWORD
    keywords: list[str] = field(default_factory=list)
    pattern: str = ""
    attribute_key: str = ""
    attribute_op: str = Rule.Op.EQUALS
    attribute_value: str = ""
    contact_tag_ids: list[int] = field(default_factory=list)
    conversation_tag_ids: list[int] = field(default_factory=list)
    stop_after: bool = False
    enabled: bool = True

    @classmethod
    def of(cls, rule: Rule) -> RuleFields:
        return cls(
            name=rule.name,
            kind=rule.kind,
            keywords=list(rule.keywords),
            pattern=rule.pattern,
            attribute_key=rule.attribute_key,
            attribute_op=rule.attribute_op,
            attribute_value=rule.attribute_value,
            contact_tag_ids=list(rule.contact_tag_ids),
            conversation_tag_ids=list(rule.conversation_tag_ids),
            stop_after=rule.stop_after,
            enabled=rule.enabled,
        )


def check_fields(actor: Actor, fields: RuleFields, rule_id: int = 0) -> CompiledRule:
    """Validate a rule (saved or only previewed); returns it compiled."""
    name = " ".join(fields.name.split())
    if not name or len(name) > 120:
        raise ActionError("Name the rule (1 to 120 characters).", code="invalid", field="name")
    fields.name = name
    if fields.kind not in Rule.Kind.values:
        raise ActionError(
            f"Unknown kind {fields.kind!r}; use one of {', '.join(Rule.Kind.values)}.",
            code="invalid_kind",
            field="kind",
        )
    tag_ids = {*fields.contact_tag_ids, *fields.conversation_tag_ids}
    known = set(
        Tag.objects.filter(workspace=actor.workspace, id__in=tag_ids).values_list("id", flat=True)
    )
    if tag_ids - known:
        raise ActionError(
            "Pick tags of this workspace.", code="invalid_tag", field="contact_tag_ids"
        )
    if not tag_ids:
        raise ActionError(
            "Pick at least one tag to add to the contact or to the conversation.",
            code="required",
            field="contact_tag_ids",
        )
    if (
        fields.kind == Rule.Kind.ATTRIBUTE
        and fields.attribute_key
        and not AttributeDefinition.objects.filter(
            workspace=actor.workspace, key=fields.attribute_key.strip()
        ).exists()
    ):
        raise ActionError(
            f"There is no contact attribute {fields.attribute_key!r}.",
            code="invalid_attribute",
            field="attribute_key",
        )
    compiled = compile_rule(
        rule_id=rule_id,
        name=name,
        kind=fields.kind,
        keywords=fields.keywords,
        pattern=fields.pattern,
        attribute_key=fields.attribute_key,
        attribute_op=fields.attribute_op,
        attribute_value=fields.attribute_value,
        contact_tag_ids=tuple(fields.contact_tag_ids),
        conversation_tag_ids=tuple(fields.conversation_tag_ids),
        stop_after=fields.stop_after,
    )
    if fields.kind == Rule.Kind.KEYWORD:
        from parley.autotag.matching import clean_keywords

        fields.keywords = clean_keywords(fields.keywords)
    return compiled


def _bump(actor: Actor) -> None:
    # Every process recompiles the workspace's rules at its next message.
    interest.bump(actor.workspace.pk)


def _apply(rule: Rule, fields: RuleFields) -> None:
    rule.name = fields.name
    rule.kind = fields.kind
    rule.keywords = fields.keywords if fields.kind == Rule.Kind.KEYWORD else []
    rule.pattern = fields.pattern.strip() if fields.kind == Rule.Kind.PATTERN else ""
    is_attribute = fields.kind == Rule.Kind.ATTRIBUTE
    rule.attribute_key = fields.attribute_key.strip() if is_attribute else ""
    rule.attribute_op = fields.attribute_op if is_attribute else Rule.Op.EQUALS
    rule.attribute_value = fields.attribute_value.strip() if is_attribute else ""
    rule.contact_tag_ids = sorted(set(fields.contact_tag_ids))
    rule.conversation_tag_ids = sorted(set(fields.conversation_tag_ids))
    rule.stop_after = fields.stop_after
    rule.enabled = fields.enabled
    rule.updated_at = timezone.now()


def _lock_rules(actor: Actor) -> list[Rule]:
    """Every rule of the workspace, locked, in order: position changes are
    made on a consistent list."""
    return list(
        Rule.objects.select_for_update()
        .filter(workspace=actor.workspace)
        .order_by("position", "id")
    )


def _renumber(rules: list[Rule]) -> None:
    changed = []
    for index, rule in enumerate(rules, 1):
        if rule.position != index:
            rule.position = index
            changed.append(rule)
    if changed:
        Rule.objects.bulk_update(changed, ["position"])


@transaction.atomic
def do_create_rule(*, actor: Actor, fields: RuleFields) -> Rule:
    """Added last in the order."""
    actor.require(MANAGE)
    check_fields(actor, fields)
    rules = _lock_rules(actor)
    if len(rules) >= MAX_RULES:
        raise ActionError(
            f"A workspace holds up to {MAX_RULES} auto-tag rules.", code="too_many", field="name"
        )
    rule = Rule(workspace=actor.workspace, position=len(rules) + 1)
    _apply(rule, fields)
    rule.save()
    _renumber([*rules, rule])
    _bump(actor)
    record(actor, "autotag.rule_created", f"autotag_rule:{rule.pk}", name=rule.name)
    return rule


@transaction.atomic
def do_update_rule(*, actor: Actor, rule: Rule, fields: RuleFields) -> Rule:
    actor.require(MANAGE)
    check_fields(actor, fields, rule.pk)
    _apply(rule, fields)
    rule.save()
    _bump(actor)
    record(actor, "autotag.rule_updated", f"autotag_rule:{rule.pk}", name=rule.name)
    return rule


@transaction.atomic
def do_set_enabled(*, actor: Actor, rule: Rule, enabled: bool) -> Rule:
    actor.require(MANAGE)
    rule.enabled = enabled
    rule.updated_at = timezone.now()
    rule.save(update_fields=["enabled", "updated_at"])
    _bump(actor)
    return rule


@transaction.atomic
def do_delete_rule(*, actor: Actor, rule: Rule) -> None:
    actor.require(MANAGE)
    record(actor, "autotag.rule_deleted", f"autotag_rule:{rule.pk}", name=rule.name)
    rule.delete()
    _renumber(_lock_rules(actor))
    _bump(actor)


@transaction.atomic
def do_move_rule(*, actor: Actor, rule: Rule, offset: int) -> Rule:
    """Move up (negative) or down (positive) in the order, clamped."""
    actor.require(MANAGE)
    rules = _lock_rules(actor)
    index = next(i for i, r in enumerate(rules) if r.pk == rule.pk)
    target = max(0, min(len(rules) - 1, index + offset))
    moved = rules.pop(index)
    rules.insert(target, moved)
    _renumber(rules)
    _bump(actor)
    rule.position = moved.position
    return rule


@transaction.atomic
def do_reorder_rules(*, actor: Actor, rule_ids: list[int]) -> list[Rule]:
    """Set the whole order at once (drag and drop, or the API): every rule of
    the workspace, each once."""
    actor.require(MANAGE)
    rules = _lock_rules(actor)
    by_id = {r.pk: r for r in rules}
    if len(rule_ids) != len(set(rule_ids)) or set(rule_ids) != set(by_id):
        raise ActionError(
            "List every rule of the workspace exactly once, in the new order.",
            code="invalid_order",
            field="rule_ids",
        )
    ordered = [by_id[i] for i in rule_ids]
    _renumber(ordered)
    _bump(actor)
    return ordered
