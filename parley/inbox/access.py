"""Every fetch by id in the inbox, scoped to the actor's workspace."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from parley.inbox.models import Conversation, Message, QuickReply
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap


def access_conversation(actor: Actor, conversation_id: int) -> Conversation:
    actor.require(Cap.CONVERSATIONS_READ)
    conversation = (
        Conversation.objects.select_related("contact", "channel", "assignee", "team")
        .filter(workspace=actor.workspace, id=conversation_id)
        .first()
    )
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


def access_message(actor: Actor, conversation: Conversation, message_id: int) -> Message:
    message = Message.objects.filter(
        workspace=actor.workspace, conversation=conversation, id=message_id
    ).first()
    if message is None:
        raise Http404("No such message.")
    return message


def access_quick_reply(actor: Actor, quick_reply_id: int) -> QuickReply:
    actor.require(Cap.CONVERSATIONS_READ)
    quick_reply = QuickReply.objects.filter(workspace=actor.workspace, id=quick_reply_id).first()
    if quick_reply is None:
        raise Http404("No such quick reply.")
    return quick_reply


def conversation_list(
    actor: Actor, *, view: str = "all", status: str | None = None, q: str = ""
) -> QuerySet[Conversation]:
    """The inbox list: mine / unassigned / all, by status, searched by name or number."""
    actor.require(Cap.CONVERSATIONS_READ)
    qs = Conversation.objects.select_related("contact", "channel", "assignee", "team").filter(
        workspace=actor.workspace
    )
    if view == "mine":
        qs = qs.filter(assignee_id=actor.user_id)
    elif view == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    if status:
        qs = qs.filter(status=status)
    q = q.strip()
    if q:
        digits = "".join(ch for ch in q if ch.isdigit())
        match = Q(contact__name__icontains=q) | Q(contact__profile_name__icontains=q)
        if digits:
            match |= Q(contact__wa_id__contains=digits)
        qs = qs.filter(match)
    return qs.order_by("-last_message_at", "-id")
