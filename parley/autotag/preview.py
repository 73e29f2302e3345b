"""What a rule being edited would have matched among the workspace's recent
inbound messages, with the matched words marked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Min, OuterRef, Subquery
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from parley.autotag.matching import CompiledRule, words_of
from parley.inbox.models import Message
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap

RECENT = 200


@dataclass(frozen=True)
class PreviewRow:
    message_id: int
    conversation_id: int
    contact_id: int
    contact_name: str
    text: str
    received_at: datetime
    highlighted: SafeString
    first: bool


@dataclass(frozen=True)
class Preview:
    scanned: int
    matches: list[PreviewRow]


def highlight(text: str, spans: list[tuple[int, int]]) -> SafeString:
    """``text`` escaped, with each span wrapped in <mark>."""
    out: list[str] = []
    cursor = 0
    for start, end in sorted(spans):
        if start < cursor or end <= start:
            continue
        out.append(escape(text[cursor:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        cursor = end
    out.append(escape(text[cursor:]))
    return mark_safe("".join(out))  # noqa: S308  (every piece is escaped above)


def preview(actor: Actor, rule: CompiledRule, *, limit: int = RECENT) -> Preview:
    actor.require(Cap.CONVERSATIONS_READ)
    first_inbound = (
        Message.objects.filter(
            workspace=actor.workspace,
            conversation=OuterRef("conversation"),
            direction=Message.Direction.INBOUND,
        )
        .values("conversation")
        .annotate(first=Min("id"))
        .values("first")
    )
    rows = list(
        Message.objects.filter(workspace=actor.workspace, direction=Message.Direction.INBOUND)
        .select_related("conversation__contact")
        .annotate(first_id=Subquery(first_inbound))
        .order_by("-id")[:limit]
    )
    matches: list[PreviewRow] = []
    for message in rows:
        contact = message.conversation.contact
        text = message.text or ""
        first = message.pk == message.first_id
        if not rule.matches(
            text=text, words=words_of(text), first=first, attributes=contact.attributes
        ):
            continue
        matches.append(
            PreviewRow(
                message_id=message.pk,
                conversation_id=message.conversation_id,
                contact_id=contact.pk,
                contact_name=contact.display_name,
                text=text,
                received_at=message.created_at,
                highlighted=highlight(text, rule.spans(text)),
                first=first,
            )
        )
    return Preview(scanned=len(rows), matches=matches)
