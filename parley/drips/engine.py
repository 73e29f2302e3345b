"""The drip machinery without an actor: enrol, plan a step, end enrolments.
Called by the actions (after their permission checks), by the event jobs,
the segment scheduler and the outbox hooks; always inside the workspace's
transaction.

At most one item per active enrolment waits in the outbox: step N+1 is only
planned when step N's item finishes (hooks.on_finished). That is what lets
deactivation hold and reactivation release a sequence without a burst."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from parley.crm.models import Consent
from parley.drips.models import Enrolment, SegmentMember, Sequence, Step
from parley.drips.timing import due_at, workspace_zone
from parley.outbox import actions as outbox
from parley.outbox.models import OutboundItem
from parley.tenancy.models import Workspace

SOURCE = "drip"
State = Enrolment.State


def zone_of(workspace_id: int) -> Any:
    tz = Workspace.objects.filter(pk=workspace_id).values_list("timezone", flat=True).first()
    return workspace_zone(tz or "UTC")


def ordered_steps(sequence_id: int, workspace_id: int) -> list[Step]:
    return list(
        Step.objects.filter(workspace_id=workspace_id, sequence_id=sequence_id).order_by(
            "position", "id"
        )
    )


def step_after(steps: list[Step], step_id: int | None) -> Step | None:
    for index, step in enumerate(steps):
        if step.pk == step_id:
            return steps[index + 1] if index + 1 < len(steps) else None
    return None


def still_active(sequence: Sequence) -> bool:
    """Re-read ``active`` under a share lock: (de)activation locks the row for
    update, so a step is never planned queued just after the sequence's items
    were held (nor held just after they were released)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT active FROM drips_sequence WHERE workspace_id = %s AND id = %s FOR SHARE",
            [sequence.workspace_id, sequence.pk],
        )
        row = cursor.fetchone()
    sequence.active = bool(row and row[0])
    return sequence.active


def _ceil_second(when: datetime) -> datetime:
    """Items due within the same second are planned together (one INSERT)."""
    if when.microsecond:
        return when.replace(microsecond=0) + timedelta(seconds=1)
    return when


# -- enrolling ----------------------------------------------------------------------------


def enrol(
    *,
    workspace_id: int,
    sequence: Sequence,
    contact_ids: Iterable[int],
    source: str,
    enrolled_by_id: int | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Enrol the contacts (of this workspace, not opted out, not already in the
    sequence) and plan their first step. Returns the contact ids enrolled."""
    ids = sorted({int(i) for i in contact_ids})
    if not ids or not still_active(sequence):
        return []
    now = now or timezone.now()
    with connection.cursor() as cursor:
        # The partial unique index (one active enrolment per contact) is the
        # arbiter: concurrent triggers for the same contact enrol it once.
        cursor.execute(
            """INSERT INTO drips_enrolment (workspace_id, sequence_id, contact_id, state,
                   exit_reason, source, enrolled_at, enrolled_by_id)
               SELECT %s, %s, c.id, 'active', '', %s, %s, %s
                 FROM crm_contact c
                WHERE c.workspace_id = %s AND c.id = ANY(%s) AND c.consent <> %s
                ORDER BY c.id
               ON CONFLICT (workspace_id, sequence_id, contact_id) WHERE state = 'active'
               DO NOTHING
               RETURNING contact_id""",
            [
                workspace_id,
                sequence.pk,
                source,
                now,
                enrolled_by_id,
                workspace_id,
                ids,
                Consent.OPTED_OUT,
            ],
        )
        enrolled = [int(row[0]) for row in cursor.fetchall()]
    if not enrolled:
        return []
    steps = ordered_steps(sequence.pk, workspace_id)
    if not steps:
        end(
            workspace_id=workspace_id,
            enrolments=Enrolment.objects.filter(
                workspace_id=workspace_id,
                sequence=sequence,
                state=State.ACTIVE,
                contact_id__in=enrolled,
            ),
            state=State.COMPLETED,
        )
        return enrolled
    plan_step(
        workspace_id=workspace_id,
        sequence=sequence,
        step=steps[0],
        starts=[(c, now) for c in enrolled],
    )
    return enrolled


# -- planning a step ----------------------------------------------------------------------


def plan_step(
    *,
    workspace_id: int,
    sequence: Sequence,
    step: Step,
    starts: list[tuple[int, datetime]],
    zone: Any = None,
) -> int:
    """Plan ``step`` for the active enrolments of these contacts, each due its
    delay after its start (then pushed into the sending window), and make it
    their current step. Held, not queued, while the sequence is inactive."""
    if not starts:
        return 0
    still_active(sequence)
    zone = zone or zone_of(workspace_id)
    due_cache: dict[datetime, datetime] = {}
    groups: dict[datetime, list[int]] = defaultdict(list)
    for contact_id, start in starts:
        if start not in due_cache:
            due_cache[start] = _ceil_second(due_at(step, start, zone))
        groups[due_cache[start]].append(contact_id)
    planned = 0
    for when, contact_ids in sorted(groups.items()):
        planned += outbox.plan(
            workspace_id=workspace_id,
            channel_id=sequence.channel_id,
            content_id=step.content_id,
            source=SOURCE,
            source_id=step.pk,
            recipients=((c, {}) for c in contact_ids),
            lane=sequence.pk,
            not_before=when,
            held=not sequence.active,
        )
    _link(workspace_id, sequence, step, [c for c, _start in starts])
    return planned


def _link(workspace_id: int, sequence: Sequence, step: Step, contact_ids: list[int]) -> None:
    """Record the items just planned as runs of their enrolments (the outbox
    returns counts, not ids: the items are found by step, contact and state;
    nobody else can see them before this transaction commits)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """WITH runs AS (
                 INSERT INTO drips_steprun (workspace_id, sequence_id, enrolment_id, step_id,
                        item_id, created_at)
                 SELECT i.workspace_id, e.sequence_id, e.id, i.source_id, i.id, %s
                   FROM outbox_outbounditem i
                   JOIN drips_enrolment e
                     ON e.workspace_id = i.workspace_id AND e.contact_id = i.contact_id
                    AND e.sequence_id = %s AND e.state = 'active'
                  WHERE i.workspace_id = %s AND i.source = %s AND i.source_id = %s
                    AND i.state IN ('pending', 'held') AND i.contact_id = ANY(%s)
                    AND NOT EXISTS (SELECT 1 FROM drips_steprun r
                                     WHERE r.workspace_id = i.workspace_id AND r.item_id = i.id)
                 ON CONFLICT (workspace_id, item_id) DO NOTHING
                 RETURNING enrolment_id, item_id)
               UPDATE drips_enrolment e SET current_step_id = %s, current_item_id = runs.item_id
                 FROM runs WHERE e.workspace_id = %s AND e.id = runs.enrolment_id""",
            [
                timezone.now(),
                sequence.pk,
                workspace_id,
                SOURCE,
                step.pk,
                contact_ids,
                step.pk,
                workspace_id,
            ],
        )


def advance(
    *,
    workspace_id: int,
    sequence: Sequence,
    enrolments: list[tuple[Enrolment, datetime]],
    steps: list[Step] | None = None,
) -> None:
    """Move each enrolment past its current step: plan the next one from the
    given time, or complete the enrolment after the last."""
    if not enrolments:
        return
    steps = steps if steps is not None else ordered_steps(sequence.pk, workspace_id)
    by_step: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    done: list[int] = []
    for enrolment, start in enrolments:
        nxt = step_after(steps, enrolment.current_step_id)
        if nxt is None:
            done.append(enrolment.pk)
        else:
            by_step[nxt.pk].append((enrolment.contact_id, start))
    if done:
        end(
            workspace_id=workspace_id,
            enrolments=Enrolment.objects.filter(workspace_id=workspace_id, pk__in=done),
            state=State.COMPLETED,
        )
    zone = zone_of(workspace_id) if by_step else None
    steps_by_id = {s.pk: s for s in steps}
    for step_id, starts in by_step.items():
        plan_step(
            workspace_id=workspace_id,
            sequence=sequence,
            step=steps_by_id[step_id],
            starts=starts,
            zone=zone,
        )


# -- ending -------------------------------------------------------------------------------


def end(
    *,
    workspace_id: int,
    enrolments: Any,
    state: str,
    reason: str = "",
    now: datetime | None = None,
    skip_locked: bool = False,
) -> int:
    """End the active ones of ``enrolments`` (a queryset) and cancel the item
    each has waiting. Returns how many ended. ``skip_locked`` leaves rows
    another transaction is ending alone (the dispatcher's precheck holds its
    claimed items: waiting there for an exit that waits for those items
    would deadlock)."""
    now = now or timezone.now()
    rows = list(
        enrolments.filter(workspace_id=workspace_id, state=State.ACTIVE)
        .select_for_update(of=("self",), skip_locked=skip_locked)
        .values_list("id", "current_item_id")
    )
    if not rows:
        return 0
    Enrolment.objects.filter(workspace_id=workspace_id, pk__in=[r[0] for r in rows]).update(
        state=state, exit_reason=reason, ended_at=now
    )
    cancel_items(workspace_id, [r[1] for r in rows if r[1] is not None])
    return len(rows)


def cancel_items(workspace_id: int, item_ids: list[int]) -> int:
    """Cancel those of the items that have not gone out (by their step)."""
    if not item_ids:
        return 0
    waiting = OutboundItem.objects.filter(
        workspace_id=workspace_id,
        pk__in=item_ids,
        source=SOURCE,
        state__in=[OutboundItem.State.PENDING, OutboundItem.State.HELD],
    ).values_list("id", "source_id")
    by_step: dict[int, list[int]] = defaultdict(list)
    for item_id, step_id in waiting:
        by_step[step_id].append(item_id)
    return sum(
        outbox.cancel(workspace_id=workspace_id, source=SOURCE, source_id=s, item_ids=ids)
        for s, ids in by_step.items()
    )


def exit_contacts(
    *,
    workspace_id: int,
    contact_ids: Iterable[int],
    reason: str,
    sequence_filter: dict[str, Any] | None = None,
) -> int:
    """End the contacts' active enrolments (in the sequences matching
    ``sequence_filter``, e.g. {"sequence__exit_tag_id": 7})."""
    ids = list(contact_ids)
    if not ids:
        return 0
    qs = Enrolment.objects.filter(workspace_id=workspace_id, contact_id__in=ids)
    if sequence_filter:
        qs = qs.filter(**sequence_filter)
    return end(workspace_id=workspace_id, enrolments=qs, state=State.EXITED, reason=reason)


# -- segment entry ------------------------------------------------------------------------


def _segment_sql(workspace_id: int, sequence: Sequence) -> tuple[str, tuple[Any, ...]] | None:
    from parley.segments.compiler import contacts_matching

    segment = sequence.trigger_segment
    if segment is None:
        return None
    sql, params = (
        contacts_matching(workspace_id, segment.definition).values("id").query.sql_with_params()
    )
    return sql, tuple(params)


def segment_baseline(workspace_id: int, sequence: Sequence) -> int:
    """Whoever is in the segment now is the baseline: only later entries enrol."""
    SegmentMember.objects.filter(workspace_id=workspace_id, sequence=sequence).delete()
    found = _segment_sql(workspace_id, sequence)
    if found is None:
        return 0
    sql, params = found
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO drips_segmentmember (workspace_id, sequence_id, contact_id)
                SELECT %s, %s, ids.id FROM ({sql}) AS ids(id)
                ON CONFLICT (workspace_id, sequence_id, contact_id) DO NOTHING""",
            [workspace_id, sequence.pk, *params],
        )
        return int(cursor.rowcount)


def segment_entries(workspace_id: int, sequence: Sequence) -> list[int]:
    """Contacts in the segment now who were not at the last check; the
    snapshot becomes the current membership. Set-based: a segment of a
    million contacts never passes through Python, only its newcomers do."""
    found = _segment_sql(workspace_id, sequence)
    if found is None:
        return []
    sql, params = found
    with connection.cursor() as cursor:
        cursor.execute(
            f"""DELETE FROM drips_segmentmember
                 WHERE workspace_id = %s AND sequence_id = %s
                   AND contact_id NOT IN ({sql})""",
            [workspace_id, sequence.pk, *params],
        )
        cursor.execute(
            f"""INSERT INTO drips_segmentmember (workspace_id, sequence_id, contact_id)
                SELECT %s, %s, ids.id FROM ({sql}) AS ids(id)
                ON CONFLICT (workspace_id, sequence_id, contact_id) DO NOTHING
                RETURNING contact_id""",
            [workspace_id, sequence.pk, *params],
        )
        return [int(row[0]) for row in cursor.fetchall()]
