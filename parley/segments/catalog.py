"""What the editor offers and how conditions read to people: the fields a
marketer can pick, each field's operators in words, the input each needs,
and a one-line summary of a saved definition."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parley.crm.models import AttributeDefinition, Consent, Tag
from parley.inbox.models import Conversation
from parley.segments.definition import ATTRIBUTE_OPS, FIELDS

OP_LABELS: dict[str, str] = {
    "has_any": "include any of",
    "has_all": "include all of",
    "has_none": "include none of",
    "eq": "is",
    "neq": "is not",
    "contains": "contains",
    "is_set": "has a value",
    "not_set": "has no value",
    "gt": "is more than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "between": "is between",
    "before": "is before",
    "after": "is after",
    "on": "is on",
    "within_last_days": "is in the last",
    "more_than_days_ago": "is more than",
    "is_true": "is yes",
    "is_false": "is no",
    "in": "is any of",
    "not_in": "is none of",
    "never": "never happened",
    "ever": "happened at some point",
    "has_conversation_with_status": "has a conversation that is",
    "has_no_conversation_with_status": "has no conversation that is",
}
# Words that read better for the number-typed comparisons.
NUMBER_LABELS = {"eq": "equals", "neq": "does not equal"}

FIELD_OPS: dict[str, tuple[str, ...]] = {
    "tags": ("has_any", "has_all", "has_none"),
    "consent": ("in",),
    "conversation_status": ("has_conversation_with_status", "has_no_conversation_with_status"),
    "last_inbound_at": (
        "within_last_days",
        "more_than_days_ago",
        "before",
        "after",
        "on",
        "never",
        "ever",
    ),
    "last_outbound_at": (
        "within_last_days",
        "more_than_days_ago",
        "before",
        "after",
        "on",
        "never",
        "ever",
    ),
    "created_at": ("within_last_days", "more_than_days_ago", "before", "after", "on"),
    "name": ("contains", "eq", "is_set", "not_set"),
    "phone": ("contains", "eq", "is_set", "not_set"),
    "email": ("contains", "eq", "is_set", "not_set"),
}
FIELD_LABELS = {
    "tags": "Tags",
    "consent": "Marketing consent",
    "conversation_status": "Conversation",
    "last_inbound_at": "Last message from them",
    "last_outbound_at": "Last message to them",
    "created_at": "Added",
    "name": "Name",
    "phone": "Phone",
    "email": "Email",
}
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Contact", ("name", "phone", "email", "consent", "created_at")),
    ("Activity", ("last_inbound_at", "last_outbound_at", "conversation_status")),
    ("Tags", ("tags",)),
)
TEXT_PRESENCE_LABELS = {"is_set": "is filled in", "not_set": "is empty"}


@dataclass
class Catalog:
    """The workspace's tags and attributes, loaded once per page (two queries)."""

    tags: list[Tag]
    attributes: dict[str, AttributeDefinition]
    consents: list[tuple[str, str]] = field(default_factory=lambda: list(Consent.choices))
    statuses: list[tuple[str, str]] = field(
        default_factory=lambda: list(Conversation.Status.choices)
    )

    @classmethod
    def load(cls, workspace_id: int) -> Catalog:
        return cls(
            tags=list(Tag.objects.filter(workspace_id=workspace_id).order_by("name")),
            attributes={
                a.key: a
                for a in AttributeDefinition.objects.filter(workspace_id=workspace_id).order_by(
                    "label"
                )
            },
        )

    def field_groups(self) -> list[tuple[str, list[tuple[str, str]]]]:
        groups = [(g, [(f, FIELD_LABELS[f]) for f in fields]) for g, fields in GROUPS]
        if self.attributes:
            groups.append(
                (
                    "Custom attributes",
                    [(f"attribute:{k}", a.label) for k, a in self.attributes.items()],
                )
            )
        return groups

    def ops_for(self, choice: str) -> list[tuple[str, str]]:
        """(op, words) for a field select value ("tags", "attribute:plan", ...)."""
        if choice.startswith("attribute:"):
            attribute = self.attributes.get(choice.partition(":")[2])
            if attribute is None:
                return []
            labels = {**OP_LABELS, **NUMBER_LABELS} if attribute.type == "number" else OP_LABELS
            return [(op, labels[op]) for op in ATTRIBUTE_OPS[attribute.type]]
        labels = (
            {**OP_LABELS, **TEXT_PRESENCE_LABELS}
            if choice in ("name", "phone", "email")
            else OP_LABELS
        )
        return [(op, labels[op]) for op in FIELD_OPS.get(choice, ())]

    def input_for(self, choice: str, op: str) -> dict[str, Any]:
        """Which input the value needs: kind, and options for lists."""
        if op in ("is_set", "not_set", "never", "ever", "is_true", "is_false"):
            return {"kind": "none"}
        if op in ("within_last_days", "more_than_days_ago"):
            return {"kind": "days", "suffix": "days" if op == "within_last_days" else "days ago"}
        if op in ("before", "after", "on"):
            return {"kind": "date"}
        if choice == "tags":
            return {"kind": "select_many", "options": [(str(t.pk), t.name) for t in self.tags]}
        if choice == "consent":
            return {"kind": "checks", "options": self.consents}
        if choice == "conversation_status":
            return {"kind": "checks", "options": self.statuses}
        if choice.startswith("attribute:"):
            attribute = self.attributes[choice.partition(":")[2]]
            if op in ("in", "not_in"):
                return {"kind": "checks", "options": [(c, c) for c in attribute.choices]}
            if op == "between":
                return {"kind": "between"}
            if attribute.type == "number":
                return {"kind": "number"}
        if choice == "phone":
            return {"kind": "text", "type": "tel"}
        if choice == "email" and op == "eq":
            return {"kind": "text", "type": "email"}
        return {"kind": "text", "type": "text"}


def choice_of(condition: dict[str, Any]) -> str:
    """The editor's field value for a stored condition."""
    if condition.get("field") == "attribute":
        return f"attribute:{condition.get('key', '')}"
    return str(condition.get("field", ""))


def describe(definition: dict[str, Any], catalog: Catalog) -> str:
    """A saved definition in one line, e.g. 'Tags has any of VIP · Plan is gold'."""
    conditions = definition.get("conditions") or []
    if not conditions:
        return "Every contact"
    tag_names = {t.pk: t.name for t in catalog.tags}
    consent_names = dict(catalog.consents)
    status_names = dict(catalog.statuses)
    parts = []
    for c in conditions:
        choice = choice_of(c)
        if choice.startswith("attribute:"):
            attribute = catalog.attributes.get(c.get("key", ""))
            subject = attribute.label if attribute else f"{c.get('key')} (deleted)"
        else:
            subject = FIELD_LABELS.get(choice, choice)
        words = dict(catalog.ops_for(choice)).get(
            c.get("op", ""), OP_LABELS.get(c.get("op", ""), "")
        )
        value = c.get("value")
        if choice == "tags":
            shown = ", ".join(tag_names.get(v, "(deleted tag)") for v in value or [])
        elif choice == "consent":
            shown = ", ".join(consent_names.get(v, v) for v in value or [])
        elif choice == "conversation_status":
            shown = ", ".join(str(status_names.get(v, v)).lower() for v in value or [])
        elif c.get("op") == "between" and isinstance(value, list):
            shown = f"{value[0]} and {value[1]}"
        elif isinstance(value, list):
            shown = ", ".join(str(v) for v in value)
        elif c.get("op") == "within_last_days":
            shown = f"{value} days"
        elif c.get("op") == "more_than_days_ago":
            shown = f"{value} days ago"
        else:
            shown = "" if value is None else str(value)
        parts.append(" ".join(p for p in (subject, words, shown) if p))
    joiner = " and " if definition.get("match", "all") == "all" else " or "
    return joiner.join(parts)


__all__ = ["FIELDS", "Catalog", "choice_of", "describe"]
