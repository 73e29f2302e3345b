"""What the outbox dispatcher asks drips: may this step go out now (precheck),
and a step went out, what next (on_finished). Registered in DripsConfig.ready.

Both find the enrolment by its current item, so an item that is not the
enrolment's current one (the enrolment ended, the step was deleted and the
enrolment moved on, a retried item) never moves anything."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import structlog

from parley.core.errors import ActionError
from parley.crm.models import Consent, Contact, ContactTag
from parley.drips import engine, execlog
from parley.drips.models import Condition, Enrolment, Sequence, Step
from parley.outbox.hooks import Finished, PrecheckItem
from parley.segments.models import Segment

log = structlog.get_logger(__name__)
Exit = Enrolment.Exit


class _Facts:
    """Tags and segment memberships of a set of contacts, loaded once per batch."""

    def __init__(self, workspace_id: int, contact_ids: set[int]) -> None:
        self.workspace_id = workspace_id
        self.contact_ids = contact_ids
        self.tags: set[tuple[int, int]] = set()
        self.members: dict[int, set[int]] = {}

    def load(self, tag_ids: set[int], segment_ids: set[int]) -> None:
        from parley.segments.compiler import contacts_matching

        if tag_ids:
            self.tags = set(
                ContactTag.objects.filter(
                    workspace_id=self.workspace_id,
                    contact_id__in=self.contact_ids,
                    tag_id__in=tag_ids,
                ).values_list("contact_id", "tag_id")
            )
        for segment in Segment.objects.filter(workspace_id=self.workspace_id, pk__in=segment_ids):
            try:
                matching = contacts_matching(self.workspace_id, segment.definition)
                self.members[segment.pk] = set(
                    matching.filter(id__in=self.contact_ids).values_list("id", flat=True)
                )
            except ActionError:
                # A definition that no longer parses matches nobody.
                self.members[segment.pk] = set()

    def has_tag(self, contact_id: int, tag_id: int | None) -> bool:
        return tag_id is not None and (contact_id, tag_id) in self.tags

    def in_segment(self, contact_id: int, segment_id: int | None) -> bool:
        return segment_id is not None and contact_id in self.members.get(segment_id, set())


def goal_reached(sequence: Sequence, contact_id: int, facts: _Facts) -> bool:
    return facts.has_tag(contact_id, sequence.goal_tag_id) or facts.in_segment(
        contact_id, sequence.goal_segment_id
    )


def condition_failure(step: Step, contact_id: int, facts: _Facts) -> str | None:
    """Why the contact skips this step, or None if it goes out. A condition
    on a deleted tag or segment reads as "nobody has it"."""
    if step.condition == Condition.HAS_TAG and not facts.has_tag(contact_id, step.condition_tag_id):
        return "Skipped: the contact does not have the step's tag."
    if step.condition == Condition.LACKS_TAG and facts.has_tag(contact_id, step.condition_tag_id):
        return "Skipped: the contact has the tag this step excludes."
    if step.condition == Condition.IN_SEGMENT and not facts.in_segment(
        contact_id, step.condition_segment_id
    ):
        return "Skipped: the contact is not in the step's segment."
    if step.condition == Condition.NOT_IN_SEGMENT and facts.in_segment(
        contact_id, step.condition_segment_id
    ):
        return "Skipped: the contact is in the segment this step excludes."
    return None


def _current(workspace_id: int, item_ids: list[int], *, lock: bool = False) -> dict[int, Enrolment]:
    """Active enrolments by their current item. With ``lock``, two reports of
    the same item (the dispatcher's and the stranded sweep's) cannot both move
    an enrolment on: the second finds its current item changed."""
    qs = Enrolment.objects.select_related("sequence", "current_step").filter(
        workspace_id=workspace_id,
        state=Enrolment.State.ACTIVE,
        current_item_id__in=item_ids,
    )
    if lock:
        qs = qs.select_for_update(of=("self",))
    return {e.current_item_id: e for e in qs if e.current_item_id is not None}


FINAL = frozenset({"sent", "failed", "skipped"})
EXIT_REASONS: dict[str, str] = {
    Exit.OPTED_OUT: "The contact opted out; they left the sequence.",
    Exit.REPLIED: "The contact replied; they left the sequence.",
    Exit.GOAL_REACHED: "The contact reached the sequence's goal; they left it.",
}


def precheck(workspace_id: int, items: list[PrecheckItem]) -> dict[int, str]:
    """Skip items whose enrolment ended or should end now (opted out, replied,
    goal reached: the enrolment ends here too), and items whose step
    condition the contact fails (the enrolment goes on to the next step)."""
    enrolments = _current(workspace_id, [i.item_id for i in items])
    contact_ids = {i.contact_id for i in items}
    contacts = {
        c["id"]: c
        for c in Contact.objects.filter(workspace_id=workspace_id, pk__in=contact_ids).values(
            "id", "consent", "last_inbound_at"
        )
    }
    facts = _Facts(workspace_id, contact_ids)
    tag_ids: set[int] = set()
    segment_ids: set[int] = set()
    for e in enrolments.values():
        tag_ids |= {t for t in (e.sequence.goal_tag_id,) if t}
        segment_ids |= {s for s in (e.sequence.goal_segment_id,) if s}
        if e.current_step is not None:
            tag_ids |= {t for t in (e.current_step.condition_tag_id,) if t}
            segment_ids |= {s for s in (e.current_step.condition_segment_id,) if s}
    facts.load(tag_ids, segment_ids)

    skip: dict[int, str] = {}
    exits: dict[str, list[int]] = defaultdict(list)
    for item in items:
        found = enrolments.get(item.item_id)
        if found is None:
            skip[item.item_id] = "The contact is no longer in this drip sequence."
            continue
        e = found
        contact = contacts.get(item.contact_id)
        if contact is None:
            continue  # the dispatcher skips items of deleted contacts itself
        reason = _exit_reason(e, contact, facts)
        if reason:
            exits[reason].append(e.pk)
            skip[item.item_id] = EXIT_REASONS[reason]
            continue
        step = e.current_step
        failure = condition_failure(step, item.contact_id, facts) if step is not None else None
        if failure:
            skip[item.item_id] = failure
    for reason, ids in exits.items():
        # The items being checked are claimed ("sending"): only the enrolment
        # ends here, the dispatcher records the item as skipped.
        engine.end(
            workspace_id=workspace_id,
            enrolments=Enrolment.objects.filter(workspace_id=workspace_id, pk__in=ids),
            state=Enrolment.State.EXITED,
            reason=reason,
            skip_locked=True,
        )
    return skip


def _exit_reason(e: Enrolment, contact: Mapping[str, Any], facts: _Facts) -> str | None:
    if contact["consent"] == Consent.OPTED_OUT:
        return Exit.OPTED_OUT
    last_inbound = contact["last_inbound_at"]
    if (
        e.sequence.exit_on_reply
        and isinstance(last_inbound, datetime)
        and last_inbound > e.enrolled_at
    ):
        # Backstop for the message.received event: any message after enrolment.
        return Exit.REPLIED
    if goal_reached(e.sequence, e.contact_id, facts):
        return Exit.GOAL_REACHED
    return None


def on_finished(workspace_id: int, finished: list[Finished]) -> None:
    """Plan each enrolment's next step, due its delay after this one finished
    (sent, failed or skipped alike: a step that could not go out does not
    stop the ones after it), or complete the enrolment after its last."""
    enrolments = _current(workspace_id, [f.item_id for f in finished], lock=True)
    if not enrolments:
        return
    execlog.record_sends(
        workspace_id, [(f, enrolments[f.item_id]) for f in finished if f.item_id in enrolments]
    )
    opted_out = set(
        Contact.objects.filter(
            workspace_id=workspace_id,
            pk__in={e.contact_id for e in enrolments.values()},
            consent=Consent.OPTED_OUT,
        ).values_list("id", flat=True)
    )
    leaving: list[int] = []
    by_sequence: dict[int, list[tuple[Enrolment, datetime]]] = defaultdict(list)
    sequences: dict[int, Sequence] = {}
    for f in finished:
        e = enrolments.get(f.item_id)
        if e is None or f.state not in FINAL:
            continue
        if e.contact_id in opted_out:
            leaving.append(e.pk)
            continue
        sequences[e.sequence_id] = e.sequence
        by_sequence[e.sequence_id].append((e, f.finished_at))
    if leaving:
        engine.end(
            workspace_id=workspace_id,
            enrolments=Enrolment.objects.filter(workspace_id=workspace_id, pk__in=leaving),
            state=Enrolment.State.EXITED,
            reason=Exit.OPTED_OUT,
        )
    for sequence_id, pairs in by_sequence.items():
        engine.advance(workspace_id=workspace_id, sequence=sequences[sequence_id], enrolments=pairs)
