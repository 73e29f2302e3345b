"""Every fetch of drip rows by id, and the lists and figures the pages and
the API show, scoped to the actor's workspace."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from parley.core.errors import ActionError
from parley.crm.models import Contact
from parley.drips.models import Enrolment, Sequence, Step, StepRun
from parley.outbox.stats import Progress, progress
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap

SOURCE = "drip"


def access_sequence(actor: Actor, sequence_id: int) -> Sequence:
    actor.require(Cap.CAMPAIGNS_READ)
    sequence = (
        Sequence.objects.select_related(
            "channel",
            "trigger_tag",
            "trigger_segment",
            "exit_tag",
            "goal_tag",
            "goal_segment",
            "created_by",
        )
        .filter(workspace=actor.workspace, id=sequence_id)
        .first()
    )
    if sequence is None:
        raise Http404("No such drip sequence.")
    return sequence


def access_step(actor: Actor, sequence: Sequence, step_id: int) -> Step:
    actor.require(Cap.CAMPAIGNS_READ)
    step = (
        Step.objects.select_related("content__template", "condition_tag", "condition_segment")
        .filter(workspace=actor.workspace, sequence=sequence, id=step_id)
        .first()
    )
    if step is None:
        raise Http404("No such step.")
    return step


def access_enrolment(actor: Actor, sequence: Sequence, enrolment_id: int) -> Enrolment:
    actor.require(Cap.CAMPAIGNS_READ)
    enrolment = (
        Enrolment.objects.select_related("contact", "current_step")
        .filter(workspace=actor.workspace, sequence=sequence, id=enrolment_id)
        .first()
    )
    if enrolment is None:
        raise Http404("No such enrolment.")
    return enrolment


def access_enrollable_contact(actor: Actor, contact_id: int) -> Contact:
    """A contact to enrol: campaign managers may enrol without the contacts scope."""
    actor.require(Cap.CAMPAIGNS_READ)
    contact = Contact.objects.filter(workspace=actor.workspace, id=contact_id).first()
    if contact is None:
        raise Http404("No such contact.")
    return contact


def _count(model: Any, **filters: Any) -> Coalesce:
    """A per-sequence count as a subquery: each is an index-only count, where
    joining enrolments and steps at once would multiply their rows."""
    rows = (
        model.objects.filter(workspace_id=OuterRef("workspace_id"), sequence_id=OuterRef("pk"))
        .filter(**filters)
        .order_by()
        .values("sequence_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def sequence_list(actor: Actor) -> QuerySet[Sequence]:
    """Sequences with their enrolment and step counts (one query)."""
    actor.require(Cap.CAMPAIGNS_READ)
    return (
        Sequence.objects.filter(workspace=actor.workspace)
        .select_related("channel", "trigger_tag", "trigger_segment")
        .annotate(
            enrolled_count=_count(Enrolment),
            active_count=_count(Enrolment, state=Enrolment.State.ACTIVE),
            step_count=_count(Step),
        )
    )


def state_counts(actor: Actor, sequence: Sequence) -> dict[str, int]:
    actor.require(Cap.CAMPAIGNS_READ)
    counts = Enrolment.objects.filter(workspace=actor.workspace, sequence=sequence).aggregate(
        **{s: Count("id", filter=Q(state=s)) for s in Enrolment.State.values}
    )
    return {k: int(v or 0) for k, v in counts.items()}


def steps_of(actor: Actor, sequence: Sequence) -> list[Step]:
    actor.require(Cap.CAMPAIGNS_READ)
    return list(
        Step.objects.filter(workspace=actor.workspace, sequence=sequence)
        .select_related("content__template", "condition_tag", "condition_segment")
        .order_by("position", "id")
    )


def enrolment_list(actor: Actor, sequence: Sequence, *, state: str = "") -> QuerySet[Enrolment]:
    actor.require(Cap.CAMPAIGNS_READ)
    qs = Enrolment.objects.filter(workspace=actor.workspace, sequence=sequence)
    if state:
        if state not in Enrolment.State.values:
            raise ActionError(
                f"state is one of {', '.join(Enrolment.State.values)}.",
                code="invalid_state",
                field="state",
            )
        qs = qs.filter(state=state)
    return qs.select_related("contact", "current_step")


@dataclass
class RunStatus:
    step_id: int
    state: str  # the item's: pending, held, sending, sent, failed, skipped, cancelled
    delivery: str  # the message's status once sent: sent, delivered, read, failed
    reason: str
    at: datetime | None  # when it went out (or is due)

    @property
    def label(self) -> str:
        if self.state == "sent":
            return self.delivery if self.delivery in ("delivered", "read", "failed") else "sent"
        return {"pending": "queued", "held": "paused"}.get(self.state, self.state)


@dataclass
class Subscriber:
    enrolment: Enrolment
    runs: dict[int, RunStatus] = field(default_factory=dict)


def step_statuses(actor: Actor, enrolments: list[Enrolment]) -> list[Subscriber]:
    """Each enrolment with the status of each step it reached (one query)."""
    actor.require(Cap.CAMPAIGNS_READ)
    out = [Subscriber(e) for e in enrolments]
    by_id = {s.enrolment.pk: s for s in out}
    rows = (
        StepRun.objects.filter(workspace=actor.workspace, enrolment_id__in=list(by_id))
        .order_by("id")
        .values(
            "enrolment_id",
            "step_id",
            "item__state",
            "item__message__status",
            "item__reason",
            "item__finished_at",
            "item__not_before",
        )
    )
    for row in rows:
        if row["step_id"] is None:
            continue
        by_id[row["enrolment_id"]].runs[row["step_id"]] = RunStatus(
            step_id=row["step_id"],
            state=row["item__state"],
            delivery=row["item__message__status"] or "",
            reason=row["item__reason"],
            at=row["item__finished_at"] or row["item__not_before"],
        )
    return out


def step_stats(actor: Actor, steps: list[Step]) -> list[tuple[Step, Progress]]:
    actor.require(Cap.CAMPAIGNS_READ)
    found = progress(
        workspace_id=actor.workspace.pk, source=SOURCE, source_ids=[s.pk for s in steps]
    )
    return [(s, found[s.pk]) for s in steps]


def send_log(actor: Actor, sequence: Sequence, *, limit: int = 100) -> list[dict[str, Any]]:
    """The sequence's most recent sends (planned, out, failed, skipped), newest first."""
    actor.require(Cap.CAMPAIGNS_READ)
    rows: Any = (
        StepRun.objects.filter(workspace=actor.workspace, sequence=sequence)
        .order_by("-id")
        .values(
            "id",
            "enrolment_id",
            "enrolment__contact_id",
            "enrolment__contact__name",
            "enrolment__contact__profile_name",
            "enrolment__contact__phone_e164",
            "step_id",
            "step__position",
            "item_id",
            "item__state",
            "item__reason",
            "item__not_before",
            "item__finished_at",
            "item__message__status",
        )[:limit]
    )
    return [dict(r) for r in rows]
