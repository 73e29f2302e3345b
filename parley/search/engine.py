"""One search across contacts, messages, notes and deals, grouped by kind.
Each kind is one indexed query with a small LIMIT, so a search costs four
short queries however big the workspace is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from parley.core.errors import ActionError
from parley.crm.search import search_contacts
from parley.deals.models import Deal
from parley.inbox.models import Message
from parley.inbox.search import search_messages
from parley.notes.models import ContactNote
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap

KINDS = ("contacts", "messages", "notes", "deals")
SINCE_CHOICES = (1, 7, 30, 90, 365)


@dataclass(frozen=True)
class Filters:
    kind: str = "all"  # one of KINDS, or "all"
    since_days: int | None = None  # only things from the last N days
    direction: str = ""  # messages only: "in" (from customers) or "out" (from us)


@dataclass(frozen=True)
class Hit:
    kind: str
    id: int
    title: str
    text: str  # plain text; the page highlights the words
    at: datetime | None
    url: str  # inside the workspace, e.g. "contacts/12/"


def validate(q: str, filters: Filters) -> str:
    q = " ".join(q.split())[:200]
    if len(q) < 2:
        raise ActionError("Type at least 2 characters.", code="too_short", field="q")
    if filters.kind != "all" and filters.kind not in KINDS:
        raise ActionError(
            f"kind is all or one of {', '.join(KINDS)}.", code="invalid_kind", field="kind"
        )
    if filters.since_days is not None and filters.since_days not in SINCE_CHOICES:
        raise ActionError(
            f"since_days is one of {', '.join(map(str, SINCE_CHOICES))}.",
            code="invalid",
            field="since_days",
        )
    if filters.direction not in ("", "in", "out"):
        raise ActionError("direction is in or out.", code="invalid", field="direction")
    return q


def search(actor: Actor, q: str, filters: Filters, *, limit: int = 5) -> dict[str, list[Hit]]:
    """The newest `limit` hits of each kind asked for."""
    actor.require(Cap.CONTACTS_READ)
    q = validate(q, filters)
    since = timezone.now() - timedelta(days=filters.since_days) if filters.since_days else None
    kinds = KINDS if filters.kind == "all" else (filters.kind,)
    finders: dict[str, Callable[[Actor, str, Filters, datetime | None, int], list[Hit]]] = {
        "contacts": _contacts,
        "messages": _messages,
        "notes": _notes,
        "deals": _deals,
    }
    if filters.direction and filters.kind == "all":
        kinds = ("messages",)  # a direction only makes sense for messages
    return {kind: finders[kind](actor, q, filters, since, limit) for kind in kinds}


def _contacts(
    actor: Actor, q: str, filters: Filters, since: datetime | None, limit: int
) -> list[Hit]:
    qs = search_contacts(actor.workspace.pk, q, default_country=actor.workspace.default_country)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    return [
        Hit(
            kind="contacts",
            id=c.pk,
            title=c.display_name,
            text=" · ".join(filter(None, [c.phone_e164 or c.wa_id, c.email])),
            at=c.created_at,
            url=f"contacts/{c.pk}/",
        )
        for c in qs.order_by("-id")[:limit]
    ]


def _messages(
    actor: Actor, q: str, filters: Filters, since: datetime | None, limit: int
) -> list[Hit]:
    if not actor.can(Cap.CONVERSATIONS_READ):
        return []
    qs = search_messages(actor.workspace.pk, q)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if filters.direction:
        qs = qs.filter(direction=filters.direction)
    rows = qs.select_related("conversation__contact").order_by("-id")[:limit]
    return [
        Hit(
            kind="messages",
            id=m.pk,
            title=m.conversation.contact.display_name
            + (" wrote" if m.direction == Message.Direction.INBOUND else " (reply)"),
            text=m.text[:400],
            at=m.created_at,
            url=f"inbox/{m.conversation_id}/",
        )
        for m in rows
    ]


def _notes(actor: Actor, q: str, filters: Filters, since: datetime | None, limit: int) -> list[Hit]:
    words = q.split()
    match = Q()
    for word in words[:8]:
        match &= Q(body__icontains=word)
    qs = ContactNote.objects.filter(match, workspace=actor.workspace)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    rows = qs.select_related("contact").order_by("-id")[:limit]
    return [
        Hit(
            kind="notes",
            id=n.pk,
            title=f"Note on {n.contact.display_name}",
            text=n.body[:400],
            at=n.created_at,
            url=f"contacts/{n.contact_id}/",
        )
        for n in rows
    ]


def _deals(actor: Actor, q: str, filters: Filters, since: datetime | None, limit: int) -> list[Hit]:
    match = Q()
    for word in q.split()[:8]:
        match &= Q(title__icontains=word) | Q(contact__name__icontains=word)
    qs = Deal.objects.filter(match, workspace=actor.workspace)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    rows = qs.select_related("stage", "contact").order_by("-id")[:limit]
    return [
        Hit(
            kind="deals",
            id=d.pk,
            title=d.title,
            text=" · ".join(
                filter(
                    None,
                    [
                        d.stage.name,
                        f"{d.value} {d.currency}",
                        d.get_status_display(),
                        d.contact.display_name if d.contact else "",
                    ],
                )
            ),
            at=d.created_at,
            url=f"deals/{d.pk}/",
        )
        for d in rows
    ]
