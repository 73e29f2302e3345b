"""What a run's conditions and texts can read: the contact, the message that
triggered it, the time, business hours and values saved by earlier steps.

Texts use ``{{contact.first_name}}``, ``{{message.text}}``,
``{{vars.order.status}}``; an unknown name renders empty rather than
failing a customer-facing message."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from parley.crm.models import Contact, ContactTag, Tag

PLACEHOLDER = re.compile(r"\{\{\s*([a-zA-Z0-9_.]+)\s*\}\}")


@dataclass
class Facts:
    """Everything a condition may ask about, loaded once per run step."""

    workspace_id: int
    now: datetime
    zone: ZoneInfo
    contact: Contact | None = None
    tag_names: set[str] = field(default_factory=set)
    message_text: str = ""
    variables: dict[str, Any] = field(default_factory=dict)

    def value(self, name: str) -> Any:
        local = self.now.astimezone(self.zone)
        contact = self.contact
        if name == "message.text":
            return self.message_text
        if name == "time.hour":
            return local.hour + local.minute / 60
        if name == "time.weekday":
            return local.isoweekday()
        if name.startswith("contact.") and contact is not None:
            key = name[len("contact.") :]
            if key == "first_name":
                return (contact.name or contact.profile_name or "").split(" ")[0]
            if key == "name":
                return contact.name or contact.profile_name
            if key == "phone":
                return contact.phone_e164 or f"+{contact.wa_id}"
            if key == "tags":
                return sorted(self.tag_names)
            if key.startswith("attributes."):
                return (contact.attributes or {}).get(key[len("attributes.") :])
            if key in ("email", "wa_id", "profile_name"):
                return getattr(contact, key)
            return None
        if name.startswith("vars."):
            current: Any = self.variables
            for part in name[len("vars.") :].split("."):
                if isinstance(current, dict):
                    current = current.get(part)
                elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
                    current = current[int(part)]
                else:
                    return None
            return current
        return None

    def render(self, text: str) -> str:
        def one(match: re.Match[str]) -> str:
            value = self.value(match.group(1))
            if value is None:
                return ""
            if isinstance(value, list):
                return ", ".join(str(v) for v in value)
            return str(value)

        return PLACEHOLDER.sub(one, text)


def load_facts(
    *,
    workspace_id: int,
    zone: ZoneInfo,
    now: datetime,
    contact_id: int | None,
    context: dict[str, Any],
) -> Facts:
    contact = (
        Contact.objects.filter(workspace_id=workspace_id, pk=contact_id).first()
        if contact_id
        else None
    )
    tags: set[str] = set()
    if contact is not None:
        tags = set(
            Tag.objects.filter(
                workspace_id=workspace_id,
                pk__in=ContactTag.objects.filter(
                    workspace_id=workspace_id, contact_id=contact.pk
                ).values("tag_id"),
            ).values_list("name", flat=True)
        )
    message = context.get("message") if isinstance(context.get("message"), dict) else {}
    return Facts(
        workspace_id=workspace_id,
        now=now,
        zone=zone,
        contact=contact,
        tag_names=tags,
        message_text=str((message or {}).get("text") or ""),
        variables=dict(context.get("vars") or {}),
    )
