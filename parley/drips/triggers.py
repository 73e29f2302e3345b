"""Enrolment triggers and exits driven by domain events (parley.core.domain_events).

The handlers run inside the emitting transaction (a tag action, an ingest
batch): each reads the workspace's sequences from a per-process summary
(reloaded when a sequence changes, see core/interest) and enqueues one job
when something cares; ``process`` does the work in that job. Inbound
messages arrive by the thousand per second: a workspace without keyword
sequences or reply exits pays nothing but the shared interest version."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from parley.core import domain_events as events
from parley.core import interest
from parley.core.errors import ActionError
from parley.core.jobs import enqueue
from parley.drips import engine
from parley.drips.models import Enrolment, Sequence, Trigger
from parley.segments.models import Segment

MAX_KEYWORD = 64
Exit = Enrolment.Exit


def normalize_keyword(text: str) -> str:
    return " ".join(text.lower().split())


def _enqueue(workspace_id: int, event: str, payload: dict[str, Any]) -> None:
    from parley.drips.tasks import handle_event

    enqueue(handle_event, workspace_id=workspace_id, event=event, payload=payload)


def _ids(data: Mapping[str, Any]) -> list[int]:
    return [int(i) for i in data.get("contact_ids") or []]


# -- handlers (in the emitting transaction) -----------------------------------------------


def _load_summary(workspace_id: int) -> list[dict[str, Any]]:
    return [
        dict(row)
        for row in Sequence.objects.filter(workspace_id=workspace_id).values(
            "active",
            "trigger",
            "trigger_tag_id",
            "goal_tag_id",
            "goal_segment_id",
            "exit_tag_id",
            "exit_on_reply",
            "keywords",
        )
    ]


def _sequences(workspace_id: int) -> list[dict[str, Any]]:
    """What the handlers need of the workspace's sequences, cached per process
    until a sequence changes (core/interest): no query of its own per event."""
    return interest.cached(workspace_id, "drips", lambda: _load_summary(workspace_id))


def on_contact_created(workspace_id: int, data: Mapping[str, Any]) -> None:
    ids = _ids(data)
    if ids and any(
        s["active"] and s["trigger"] == Trigger.CONTACT_CREATED for s in _sequences(workspace_id)
    ):
        _enqueue(workspace_id, events.CONTACT_CREATED, {"contact_ids": ids})


def on_tagged(workspace_id: int, data: Mapping[str, Any]) -> None:
    ids, tag_id = _ids(data), int(data["tag_id"])
    if ids and any(
        (s["active"] and s["trigger"] == Trigger.TAG_ADDED and s["trigger_tag_id"] == tag_id)
        or s["goal_tag_id"] == tag_id
        # A segment goal may be reached through tags too.
        or s["goal_segment_id"] is not None
        for s in _sequences(workspace_id)
    ):
        _enqueue(workspace_id, events.CONTACT_TAGGED, {"contact_ids": ids, "tag_id": tag_id})


def on_untagged(workspace_id: int, data: Mapping[str, Any]) -> None:
    ids, tag_id = _ids(data), int(data["tag_id"])
    if ids and any(
        s["exit_tag_id"] == tag_id or s["goal_segment_id"] is not None
        for s in _sequences(workspace_id)
    ):
        _enqueue(workspace_id, events.CONTACT_UNTAGGED, {"contact_ids": ids, "tag_id": tag_id})


def on_opted_out(workspace_id: int, data: Mapping[str, Any]) -> None:
    ids = _ids(data)
    if ids and (
        Enrolment.objects.filter(
            workspace_id=workspace_id, state=Enrolment.State.ACTIVE, contact_id__in=ids
        ).exists()
    ):
        _enqueue(workspace_id, events.CONTACT_OPTED_OUT, {"contact_ids": ids})


def on_message_received(workspace_id: int, data: Mapping[str, Any]) -> None:
    """The keywords of active keyword sequences (cached), and whether any
    sender is in a sequence that ends on a reply (one query, only when an
    active sequence ends on replies)."""
    messages: list[events.ReceivedMessage] = list(data.get("messages") or [])
    if not messages:
        return
    sequences = _sequences(workspace_id)
    keyword_lists = [
        s["keywords"] for s in sequences if s["active"] and s["trigger"] == Trigger.KEYWORD
    ]
    replying = False
    if any(s["active"] and s["exit_on_reply"] for s in sequences):
        # Enrolments change all the time: this one is asked every batch.
        contact_ids = sorted({m.contact_id for m in messages})
        replying = Enrolment.objects.filter(
            workspace_id=workspace_id,
            state=Enrolment.State.ACTIVE,
            contact_id__in=contact_ids,
            sequence__exit_on_reply=True,
        ).exists()
    keywords = {normalize_keyword(str(k)) for words in keyword_lists or [] for k in words or []}
    payload: dict[str, Any] = {}
    if keywords:
        hits = []
        for m in messages:
            if len(m.text) <= MAX_KEYWORD * 2:
                word = normalize_keyword(m.text)
                if word in keywords:
                    hits.append([m.contact_id, word])
        if hits:
            payload["keywords"] = hits
    if replying:
        latest: dict[int, datetime] = {}
        for m in messages:
            if m.contact_id not in latest or m.received_at > latest[m.contact_id]:
                latest[m.contact_id] = m.received_at
        payload["replies"] = [[c, at.isoformat()] for c, at in latest.items()]
    if payload:
        _enqueue(workspace_id, events.MESSAGE_RECEIVED, payload)


def subscribe() -> None:
    events.subscribe(events.CONTACT_CREATED, on_contact_created)
    events.subscribe(events.CONTACT_TAGGED, on_tagged)
    events.subscribe(events.CONTACT_UNTAGGED, on_untagged)
    events.subscribe(events.CONTACT_OPTED_OUT, on_opted_out)
    events.subscribe(events.MESSAGE_RECEIVED, on_message_received)


# -- the job ------------------------------------------------------------------------------


def _enrol_all(workspace_id: int, sequences: Any, contact_ids: list[int], source: str) -> int:
    return sum(
        len(
            engine.enrol(
                workspace_id=workspace_id, sequence=s, contact_ids=contact_ids, source=source
            )
        )
        for s in sequences
    )


def process(workspace_id: int, event: str, payload: Mapping[str, Any]) -> int:
    """React to one event; idempotent (a rerun enrols nobody twice, ends
    nothing twice). Exits first, so an event that both ends and starts an
    enrolment leaves the new one standing. Returns enrolments changed."""
    live = Sequence.objects.filter(workspace_id=workspace_id, active=True).order_by("id")
    ids = [int(i) for i in payload.get("contact_ids") or []]
    if event == events.CONTACT_CREATED:
        return _enrol_all(
            workspace_id, live.filter(trigger=Trigger.CONTACT_CREATED), ids, Trigger.CONTACT_CREATED
        )
    if event == events.CONTACT_TAGGED:
        tag_id = int(payload["tag_id"])
        changed = engine.exit_contacts(
            workspace_id=workspace_id,
            contact_ids=ids,
            reason=Exit.GOAL_REACHED,
            sequence_filter={"sequence__goal_tag_id": tag_id},
        )
        changed += _segment_goals(workspace_id, ids)
        sequences = live.filter(trigger=Trigger.TAG_ADDED, trigger_tag_id=tag_id)
        return changed + _enrol_all(workspace_id, sequences, ids, Trigger.TAG_ADDED)
    if event == events.CONTACT_UNTAGGED:
        changed = engine.exit_contacts(
            workspace_id=workspace_id,
            contact_ids=ids,
            reason=Exit.TAG_REMOVED,
            sequence_filter={"sequence__exit_tag_id": int(payload["tag_id"])},
        )
        return changed + _segment_goals(workspace_id, ids)
    if event == events.CONTACT_OPTED_OUT:
        return engine.exit_contacts(
            workspace_id=workspace_id, contact_ids=ids, reason=Exit.OPTED_OUT
        )
    if event == events.MESSAGE_RECEIVED:
        return _replies(workspace_id, payload.get("replies") or []) + _keywords(
            workspace_id, live, payload.get("keywords") or []
        )
    return 0


def _segment_goals(workspace_id: int, contact_ids: list[int]) -> int:
    """End the contacts' enrolments whose goal segment they are in now (one
    query per goal segment involved)."""
    from parley.segments.compiler import contacts_matching

    rows = list(
        Enrolment.objects.filter(
            workspace_id=workspace_id,
            state=Enrolment.State.ACTIVE,
            contact_id__in=contact_ids,
            sequence__goal_segment__isnull=False,
        ).values_list("id", "contact_id", "sequence__goal_segment_id")
    )
    if not rows:
        return 0
    members: dict[int, set[int]] = {}
    for segment in Segment.objects.filter(workspace_id=workspace_id, pk__in={r[2] for r in rows}):
        try:
            members[segment.pk] = set(
                contacts_matching(workspace_id, segment.definition)
                .filter(id__in=contact_ids)
                .values_list("id", flat=True)
            )
        except ActionError:
            members[segment.pk] = set()
    ending = [pk for pk, contact_id, seg in rows if contact_id in members.get(seg, set())]
    if not ending:
        return 0
    return engine.end(
        workspace_id=workspace_id,
        enrolments=Enrolment.objects.filter(workspace_id=workspace_id, pk__in=ending),
        state=Enrolment.State.EXITED,
        reason=Exit.GOAL_REACHED,
    )


def _replies(workspace_id: int, replies: list[list[Any]]) -> int:
    """End enrolments (of sequences that exit on a reply) that began before
    the contact's message."""
    if not replies:
        return 0
    latest = {int(c): datetime.fromisoformat(str(at)) for c, at in replies}
    rows = Enrolment.objects.filter(
        workspace_id=workspace_id,
        state=Enrolment.State.ACTIVE,
        contact_id__in=list(latest),
        sequence__exit_on_reply=True,
    ).values_list("id", "contact_id", "enrolled_at")
    ending = [pk for pk, contact_id, enrolled_at in rows if latest[contact_id] > enrolled_at]
    if not ending:
        return 0
    return engine.end(
        workspace_id=workspace_id,
        enrolments=Enrolment.objects.filter(workspace_id=workspace_id, pk__in=ending),
        state=Enrolment.State.EXITED,
        reason=Exit.REPLIED,
    )


def _keywords(workspace_id: int, live: Any, hits: list[list[Any]]) -> int:
    if not hits:
        return 0
    enrolled = 0
    for sequence in live.filter(trigger=Trigger.KEYWORD):
        words = {normalize_keyword(str(k)) for k in sequence.keywords or []}
        ids = [int(c) for c, word in hits if word in words]
        if ids:
            enrolled += len(
                engine.enrol(
                    workspace_id=workspace_id,
                    sequence=sequence,
                    contact_ids=ids,
                    source=Trigger.KEYWORD,
                )
            )
    return enrolled
