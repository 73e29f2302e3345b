"""Scheduled messages as people read them: times in the workspace's zone (and
the contact's, when their number tells it), what goes out, what happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from parley.msgtemplates.render import RenderError, compile_template
from parley.scheduled import when as when_
from parley.scheduled.models import Kind, ScheduledMessage
from parley.whatsapp.models import MessageTemplate


@dataclass(frozen=True)
class Row:
    s: ScheduledMessage
    when: str  # in the workspace's zone: "Sun 29 Mar 2026, 09:00 CEST"
    contact_when: str  # "03:00 EDT for them (America/New_York)", or ""
    what: str  # "Text" or "Template hello (en)"
    body: str  # the text, or the template's body filled for this contact
    fallback: str  # "hello (en)" or ""
    status: str
    status_label: str
    reason: str
    who: str
    conversation_id: int | None


def template_label(template: MessageTemplate | None) -> str:
    return f"{template.name} ({template.language})" if template is not None else "(deleted)"


def preview(
    template: MessageTemplate | None, mapping: dict[str, object], s: ScheduledMessage
) -> str:
    """The template's body as this contact would get it (or as written, with
    its placeholders, when it cannot be filled)."""
    if template is None:
        return ""
    try:
        return compile_template(template, mapping).render(s.contact, {}).text
    except RenderError:
        return template.body_text


def contact_time(s: ScheduledMessage, workspace_zone: ZoneInfo) -> str:
    tz = when_.contact_zone(s.contact.phone_e164 or s.contact.wa_id)
    if tz is None:
        return ""
    theirs = s.send_at.astimezone(tz)
    ours = s.send_at.astimezone(workspace_zone)
    if theirs.utcoffset() == ours.utcoffset():
        return ""
    day = "" if theirs.date() == ours.date() else f"{theirs:%a} "
    return f"{day}{theirs:%H:%M} {theirs.tzname()} for them ({tz.key})"


def row(s: ScheduledMessage, workspace_zone: ZoneInfo) -> Row:
    content = s.content
    if s.kind == Kind.TEMPLATE:
        what = f"Template {template_label(content.template)}"
        body = preview(content.template, content.mapping, s)
    else:
        what = "Text"
        body = content.text
    message = s.item.message if s.item is not None else None
    return Row(
        s=s,
        when=when_.label(s.send_at, workspace_zone),
        contact_when=contact_time(s, workspace_zone),
        what=what,
        body=body,
        fallback=template_label(content.fallback_template) if content.fallback_template_id else "",
        status=s.status,
        status_label=s.status_label,
        reason=s.reason,
        who=s.created_by.display_name if s.created_by is not None else "API",
        conversation_id=message.conversation_id if message is not None else None,
    )


def rows(items: list[ScheduledMessage], zone_name: str) -> list[Row]:
    tz = when_.zone(zone_name)
    return [row(s, tz) for s in items]


def local_input(at: datetime, zone_name: str) -> str:
    """The value of a datetime-local input for ``at`` in the zone."""
    return f"{at.astimezone(when_.zone(zone_name)):%Y-%m-%dT%H:%M}"
