"""Tags on conversations ("billing", "urgent"), the workspace's crm.Tag set."""

from __future__ import annotations

from django.db import transaction

from parley.core.errors import ActionError
from parley.core.events import publish_many
from parley.crm.models import Tag
from parley.inbox.models import Conversation, ConversationTag
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap


@transaction.atomic
def do_tag_conversations(*, actor: Actor, tag: Tag, conversation_ids: list[int], add: bool) -> int:
    """Apply or remove one tag on many conversations; foreign or missing ids
    are ignored alike. Returns how many changed."""
    actor.require(Cap.CONVERSATIONS_WORK)
    if len(conversation_ids) > 10_000:
        raise ActionError(
            "Tag at most 10,000 conversations per call.",
            code="too_many",
            field="conversation_ids",
        )
    ids = set(
        Conversation.objects.filter(workspace=actor.workspace, id__in=conversation_ids).values_list(
            "id", flat=True
        )
    )
    current = ConversationTag.objects.filter(
        workspace=actor.workspace, tag=tag, conversation_id__in=ids
    )
    if add:
        have = set(current.values_list("conversation_id", flat=True))
        changed = sorted(ids - have)
        ConversationTag.objects.bulk_create(
            [
                ConversationTag(workspace=actor.workspace, tag=tag, conversation_id=i)
                for i in changed
            ],
            ignore_conflicts=True,
        )
    else:
        changed = sorted(current.values_list("conversation_id", flat=True))
        current.delete()
    publish_many(actor.workspace.pk, "conversation", changed)
    return len(changed)


def tags_by_conversation(workspace_id: int, conversation_ids: list[int]) -> dict[int, list[Tag]]:
    """One query for the tags of a page of conversations."""
    found: dict[int, list[Tag]] = {}
    rows = (
        ConversationTag.objects.filter(
            workspace_id=workspace_id, conversation_id__in=conversation_ids
        )
        .select_related("tag")
        .order_by("tag__name")
    )
    for row in rows:
        found.setdefault(row.conversation_id, []).append(row.tag)
    return found
