"""Every change to drip sequences, their steps and enrolments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from parley.core import interest
from parley.core.errors import ActionError, Conflict
from parley.crm.models import Consent, Contact, Tag
from parley.drips import engine
from parley.drips.models import (
    Condition,
    DelayUnit,
    Enrolment,
    Sequence,
    Step,
    Trigger,
)
from parley.drips.triggers import MAX_KEYWORD, normalize_keyword
from parley.outbox import actions as outbox
from parley.segments.models import Segment
from parley.tenancy.actions import record as audit
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.whatsapp.models import Channel, MessageTemplate

MAX_KEYWORDS = 20
MAX_ENROL = 10_000
MAX_DELAY = {DelayUnit.MINUTES: 60 * 24 * 365, DelayUnit.HOURS: 24 * 365, DelayUnit.DAYS: 365}
MAX_TEXT = 4096


# -- sequences ----------------------------------------------------------------------------


@dataclass
class SequenceFields:
    name: str
    channel_id: int | None
    trigger: str = Trigger.MANUAL
    trigger_tag_id: int | None = None
    trigger_segment_id: int | None = None
    keywords: list[str] = field(default_factory=list)
    exit_on_reply: bool = True
    exit_tag_id: int | None = None
    goal_tag_id: int | None = None
    goal_segment_id: int | None = None

    @classmethod
    def of(cls, sequence: Sequence) -> SequenceFields:
        return cls(
            name=sequence.name,
            channel_id=sequence.channel_id,
            trigger=sequence.trigger,
            trigger_tag_id=sequence.trigger_tag_id,
            trigger_segment_id=sequence.trigger_segment_id,
            keywords=list(sequence.keywords or []),
            exit_on_reply=sequence.exit_on_reply,
            exit_tag_id=sequence.exit_tag_id,
            goal_tag_id=sequence.goal_tag_id,
            goal_segment_id=sequence.goal_segment_id,
        )


def _channel(actor: Actor, channel_id: int | None) -> Channel:
    channel = (
        Channel.objects.filter(workspace=actor.workspace, pk=channel_id).first()
        if channel_id
        else None
    )
    if channel is None:
        raise ActionError(
            "Pick one of this workspace's WhatsApp numbers to send from.",
            code="invalid_channel",
            field="channel_id",
        )
    return channel


def _tag(actor: Actor, tag_id: int | None, field: str, *, required: str = "") -> Tag | None:
    if not tag_id:
        if required:
            raise ActionError(required, code="required", field=field)
        return None
    tag = Tag.objects.filter(workspace=actor.workspace, pk=tag_id).first()
    if tag is None:
        raise ActionError("Pick one of this workspace's tags.", code="invalid_tag", field=field)
    return tag


def _segment(
    actor: Actor, segment_id: int | None, field: str, *, required: str = ""
) -> Segment | None:
    if not segment_id:
        if required:
            raise ActionError(required, code="required", field=field)
        return None
    segment = Segment.objects.filter(workspace=actor.workspace, pk=segment_id).first()
    if segment is None:
        raise ActionError(
            "Pick one of this workspace's segments.", code="invalid_segment", field=field
        )
    return segment


def clean_keywords(raw: list[str]) -> list[str]:
    words: list[str] = []
    for item in raw:
        for part in str(item).split(","):
            word = normalize_keyword(part)
            if not word:
                continue
            if len(word) > MAX_KEYWORD:
                raise ActionError(
                    f"A keyword is at most {MAX_KEYWORD} characters: {word[:20]!r}… is longer.",
                    code="invalid_keyword",
                    field="keywords",
                )
            if word not in words:
                words.append(word)
    if len(words) > MAX_KEYWORDS:
        raise ActionError(
            f"At most {MAX_KEYWORDS} keywords per sequence.", code="too_many", field="keywords"
        )
    return words


def _apply_sequence(actor: Actor, sequence: Sequence, fields: SequenceFields) -> None:
    name = " ".join(fields.name.split())[:120]
    if not name:
        raise ActionError("Name the sequence.", code="required", field="name")
    if fields.trigger not in Trigger.values:
        raise ActionError(
            f"The trigger is one of {', '.join(Trigger.values)}.",
            code="invalid_trigger",
            field="trigger",
        )
    channel = _channel(actor, fields.channel_id)
    trigger = fields.trigger
    trigger_tag = _tag(
        actor,
        fields.trigger_tag_id if trigger == Trigger.TAG_ADDED else None,
        "trigger_tag_id",
        required="Pick the tag whose adding enrols a contact."
        if trigger == Trigger.TAG_ADDED
        else "",
    )
    trigger_segment = _segment(
        actor,
        fields.trigger_segment_id if trigger == Trigger.SEGMENT_ENTERED else None,
        "trigger_segment_id",
        required="Pick the segment whose entering enrols a contact."
        if trigger == Trigger.SEGMENT_ENTERED
        else "",
    )
    keywords = clean_keywords(fields.keywords) if trigger == Trigger.KEYWORD else []
    if trigger == Trigger.KEYWORD and not keywords:
        raise ActionError(
            "Give at least one keyword (a customer writing exactly it is enrolled).",
            code="required",
            field="keywords",
        )
    sequence.name = name
    sequence.channel = channel
    sequence.trigger = trigger
    sequence.trigger_tag = trigger_tag
    sequence.trigger_segment = trigger_segment
    sequence.keywords = keywords
    sequence.exit_on_reply = bool(fields.exit_on_reply)
    sequence.exit_tag = _tag(actor, fields.exit_tag_id, "exit_tag_id")
    sequence.goal_tag = _tag(actor, fields.goal_tag_id, "goal_tag_id")
    sequence.goal_segment = _segment(actor, fields.goal_segment_id, "goal_segment_id")


@transaction.atomic
def do_create_sequence(*, actor: Actor, fields: SequenceFields) -> Sequence:
    """A new sequence, inactive until it has steps and is activated."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    sequence = Sequence(workspace=actor.workspace, created_by=actor.user)
    _apply_sequence(actor, sequence, fields)
    sequence.save()
    interest.bump(actor.workspace.pk)
    audit(actor, "drip.created", target=str(sequence.pk), name=sequence.name)
    return sequence


@transaction.atomic
def do_update_sequence(*, actor: Actor, sequence: Sequence, fields: SequenceFields) -> Sequence:
    actor.require(Cap.CAMPAIGNS_MANAGE)
    sequence = Sequence.objects.select_for_update().get(workspace=actor.workspace, pk=sequence.pk)
    before = (sequence.channel_id, sequence.trigger, sequence.trigger_segment_id)
    _apply_sequence(actor, sequence, fields)
    if sequence.active and sequence.channel_id != before[0]:
        raise ActionError(
            "Deactivate the sequence before changing the number it sends from.",
            code="active",
            field="channel_id",
        )
    sequence.updated_at = timezone.now()
    sequence.save()
    interest.bump(actor.workspace.pk)
    if (
        sequence.active
        and sequence.trigger == Trigger.SEGMENT_ENTERED
        and (sequence.trigger, sequence.trigger_segment_id) != before[1:]
    ):
        # A new segment: its present members are the new baseline.
        engine.segment_baseline(actor.workspace.pk, sequence)
    return sequence


@transaction.atomic
def do_delete_sequence(*, actor: Actor, sequence: Sequence) -> None:
    """Delete the sequence with its steps and enrolments; what has not gone
    out is cancelled (what went out stays in the conversations)."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    for step_id in Step.objects.filter(workspace=actor.workspace, sequence=sequence).values_list(
        "id", flat=True
    ):
        outbox.cancel(workspace_id=actor.workspace.pk, source=engine.SOURCE, source_id=step_id)
    audit(actor, "drip.deleted", target=str(sequence.pk), name=sequence.name)
    sequence.delete()
    interest.bump(actor.workspace.pk)


def _activation_problems(actor: Actor, sequence: Sequence, steps: list[Step]) -> list[str]:
    from parley.msgtemplates.render import RenderError, compile_template

    problems = []
    if not steps:
        problems.append("Add a step first.")
    if sequence.channel.status != Channel.Status.ACTIVE:
        problems.append(f"The number {sequence.channel} is disabled.")
    if sequence.trigger == Trigger.TAG_ADDED and sequence.trigger_tag_id is None:
        problems.append("Pick the tag that enrols contacts (the previous one was deleted).")
    if sequence.trigger == Trigger.SEGMENT_ENTERED and sequence.trigger_segment_id is None:
        problems.append("Pick the segment that enrols contacts (the previous one was deleted).")
    for index, step in enumerate(steps, start=1):
        template = step.content.template
        if step.content.template_id is None and not step.content.text:
            problems.append(f"Step {index} has nothing to send (its template was deleted).")
        elif template is not None:
            if template.channel_id != sequence.channel_id:
                problems.append(
                    f"Step {index}: the template {template.name} belongs to another number."
                )
            if template.status.upper() != "APPROVED":
                problems.append(
                    f"Step {index}: the template {template.name} is not approved "
                    f"(it is {template.status.lower() or 'unknown'})."
                )
            try:
                compile_template(template, step.content.mapping)
            except RenderError as exc:
                problems.append(f"Step {index}: {exc.reason}")
    return problems


@transaction.atomic
def do_activate(*, actor: Actor, sequence: Sequence) -> Sequence:
    """Start enrolling, and resume the paused enrolments.

    No burst after a pause: each enrolment has at most one item waiting (the
    next step is only planned when the previous one finished), so releasing
    the held items with not_before = now sends at most one overdue step per
    contact right away; the steps after it are planned from its send, each
    with its full delay."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    sequence = (
        Sequence.objects.select_for_update(of=("self",))
        .select_related("channel")
        .get(workspace=actor.workspace, pk=sequence.pk)
    )
    if sequence.active:
        return sequence
    steps = list(
        Step.objects.filter(workspace=actor.workspace, sequence=sequence)
        .select_related("content__template")
        .order_by("position", "id")
    )
    problems = _activation_problems(actor, sequence, steps)
    if problems:
        raise ActionError(
            "The sequence cannot start yet: " + " ".join(problems), code="not_ready", field=None
        )
    now = timezone.now()
    sequence.active = True
    sequence.activated_at = sequence.updated_at = now
    sequence.save(update_fields=["active", "activated_at", "updated_at"])
    interest.bump(actor.workspace.pk)
    for step in steps:
        outbox.release(
            workspace_id=actor.workspace.pk, source=engine.SOURCE, source_id=step.pk, not_before=now
        )
    if sequence.trigger == Trigger.SEGMENT_ENTERED:
        # Who is in the segment now is the baseline: only later entries enrol.
        engine.segment_baseline(actor.workspace.pk, sequence)
    audit(actor, "drip.activated", target=str(sequence.pk))
    return sequence


@transaction.atomic
def do_deactivate(*, actor: Actor, sequence: Sequence) -> Sequence:
    """Stop enrolling and pause the enrolments: their waiting items are held
    (one in flight finishes; the step after it is planned held)."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    sequence = Sequence.objects.select_for_update().get(workspace=actor.workspace, pk=sequence.pk)
    if not sequence.active:
        return sequence
    sequence.active = False
    sequence.updated_at = timezone.now()
    sequence.save(update_fields=["active", "updated_at"])
    interest.bump(actor.workspace.pk)
    for step_id in Step.objects.filter(workspace=actor.workspace, sequence=sequence).values_list(
        "id", flat=True
    ):
        outbox.hold(workspace_id=actor.workspace.pk, source=engine.SOURCE, source_id=step_id)
    audit(actor, "drip.deactivated", target=str(sequence.pk))
    return sequence


# -- steps --------------------------------------------------------------------------------


@dataclass
class StepFields:
    template_id: int | None = None
    mapping: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    delay_amount: int = 0
    delay_unit: str = DelayUnit.DAYS
    window_days: list[int] = field(default_factory=list)
    window_start: time | None = None
    window_end: time | None = None
    condition: str = ""
    condition_tag_id: int | None = None
    condition_segment_id: int | None = None

    @classmethod
    def of(cls, step: Step) -> StepFields:
        return cls(
            template_id=step.content.template_id,
            mapping=dict(step.content.mapping or {}),
            text=step.content.text,
            delay_amount=step.delay_amount,
            delay_unit=step.delay_unit,
            window_days=list(step.window_days or []),
            window_start=step.window_start,
            window_end=step.window_end,
            condition=step.condition,
            condition_tag_id=step.condition_tag_id,
            condition_segment_id=step.condition_segment_id,
        )


@dataclass
class _CleanStep:
    template: MessageTemplate | None
    mapping: dict[str, Any]
    text: str
    values: dict[str, Any]


def _clean_step(actor: Actor, sequence: Sequence, fields: StepFields) -> _CleanStep:
    from parley.msgtemplates.render import validate_mapping

    text = fields.text.strip()
    template = None
    mapping: dict[str, Any] = {}
    if fields.template_id:
        template = MessageTemplate.objects.filter(
            workspace=actor.workspace, pk=fields.template_id
        ).first()
        if template is None:
            raise ActionError(
                "Pick one of this workspace's templates.",
                code="invalid_template",
                field="template_id",
            )
        if template.channel_id != sequence.channel_id:
            raise ActionError(
                f"The template {template.name} belongs to another number than this sequence's.",
                code="invalid_template",
                field="template_id",
            )
        mapping = dict(fields.mapping or {})
        validate_mapping(template, mapping)
        text = ""
    elif not text:
        raise ActionError(
            "Pick a template, or write a message (a message only goes out inside the "
            "24-hour window, when the customer wrote in the last day).",
            code="required",
            field="template_id",
        )
    elif len(text) > MAX_TEXT:
        raise ActionError(
            f"A message is at most {MAX_TEXT} characters.", code="too_long", field="text"
        )
    if fields.delay_unit not in DelayUnit.values:
        raise ActionError(
            "The delay is in minutes, hours or days.", code="invalid_delay", field="delay_unit"
        )
    if not 0 <= fields.delay_amount <= MAX_DELAY[DelayUnit(fields.delay_unit)]:
        raise ActionError(
            "The delay is between 0 and a year.", code="invalid_delay", field="delay_amount"
        )
    days = sorted({int(d) for d in fields.window_days})
    if any(d < 0 or d > 6 for d in days):
        raise ActionError(
            "Window days are 0 (Monday) to 6 (Sunday).", code="invalid_window", field="window_days"
        )
    start, end = fields.window_start, fields.window_end
    if not days and (start is not None or end is not None):
        raise ActionError(
            "Pick the days the sending window is open.", code="invalid_window", field="window_days"
        )
    if start is not None and end is not None and end <= start:
        raise ActionError(
            "The window ends after it starts (for a window across midnight, use two days).",
            code="invalid_window",
            field="window_end",
        )
    condition = fields.condition or ""
    if condition not in Condition.values:
        raise ActionError(
            f"The condition is one of {', '.join(c for c in Condition.values if c)}.",
            code="invalid_condition",
            field="condition",
        )
    tag_needed = condition in (Condition.HAS_TAG, Condition.LACKS_TAG)
    segment_needed = condition in (Condition.IN_SEGMENT, Condition.NOT_IN_SEGMENT)
    condition_tag = _tag(
        actor,
        fields.condition_tag_id if tag_needed else None,
        "condition_tag_id",
        required="Pick the tag the condition checks." if tag_needed else "",
    )
    condition_segment = _segment(
        actor,
        fields.condition_segment_id if segment_needed else None,
        "condition_segment_id",
        required="Pick the segment the condition checks." if segment_needed else "",
    )
    return _CleanStep(
        template=template,
        mapping=mapping,
        text=text,
        values={
            "delay_amount": fields.delay_amount,
            "delay_unit": fields.delay_unit,
            "window_days": days,
            "window_start": start if days else None,
            "window_end": end if days else None,
            "condition": condition,
            "condition_tag": condition_tag,
            "condition_segment": condition_segment,
        },
    )


@transaction.atomic
def do_save_step(
    *, actor: Actor, sequence: Sequence, step: Step | None, fields: StepFields
) -> Step:
    """Add a step at the end, or change one. A change applies to the sends
    planned from now on; what waits already keeps its time (but sends the
    new message: the content is edited in place)."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    clean = _clean_step(actor, sequence, fields)
    now = timezone.now()
    if step is None:
        content = outbox.create_content(
            workspace_id=actor.workspace.pk,
            template_id=clean.template.pk if clean.template else None,
            mapping=clean.mapping,
            text=clean.text,
        )
        last = Step.objects.filter(workspace=actor.workspace, sequence=sequence).aggregate(
            m=Max("position")
        )["m"]
        step = Step(
            workspace=actor.workspace,
            sequence=sequence,
            content=content,
            position=(last or 0) + 1,
            created_at=now,
        )
    else:
        content = step.content
        content.template = clean.template
        content.mapping = clean.mapping
        content.text = clean.text
        content.save(update_fields=["template", "mapping", "text"])
    for name, value in clean.values.items():
        setattr(step, name, value)
    step.updated_at = now
    step.save()
    return step


def _renumber(actor: Actor, sequence: Sequence) -> list[Step]:
    steps = engine.ordered_steps(sequence.pk, actor.workspace.pk)
    for position, step in enumerate(steps, start=1):
        if step.position != position:
            step.position = position
            step.save(update_fields=["position"])
    return steps


@transaction.atomic
def do_delete_step(*, actor: Actor, step: Step) -> None:
    """Delete a step. Contacts waiting for it move on to the step after it
    (due its delay from now), or complete the sequence if it was the last."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    sequence = Sequence.objects.select_for_update().get(
        workspace=actor.workspace, pk=step.sequence_id
    )
    steps = engine.ordered_steps(sequence.pk, actor.workspace.pk)
    waiting = list(
        Enrolment.objects.select_for_update().filter(
            workspace=actor.workspace,
            sequence=sequence,
            state=Enrolment.State.ACTIVE,
            current_step=step,
        )
    )
    engine.cancel_items(
        actor.workspace.pk, [e.current_item_id for e in waiting if e.current_item_id]
    )
    now = timezone.now()
    engine.advance(
        workspace_id=actor.workspace.pk,
        sequence=sequence,
        enrolments=[(e, now) for e in waiting],
        steps=steps,
    )
    # Whatever else of this step still waits belongs to no enrolment now.
    outbox.cancel(workspace_id=actor.workspace.pk, source=engine.SOURCE, source_id=step.pk)
    step.delete()
    _renumber(actor, sequence)


@transaction.atomic
def do_move_step(*, actor: Actor, step: Step, by: int) -> Step:
    """Move a step up (by=-1) or down (by=1). Enrolments keep their current
    step and go on with whichever step follows it in the new order."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    sequence = Sequence.objects.select_for_update().get(
        workspace=actor.workspace, pk=step.sequence_id
    )
    steps = _renumber(actor, sequence)
    index = next(i for i, s in enumerate(steps) if s.pk == step.pk)
    target = index + (1 if by > 0 else -1)
    if not 0 <= target < len(steps):
        return step
    steps[index], steps[target] = steps[target], steps[index]
    for position, s in enumerate(steps, start=1):
        if s.position != position:
            s.position = position
            s.save(update_fields=["position"])
    return steps[target]


# -- enrolments ---------------------------------------------------------------------------


@dataclass
class EnrolResult:
    enrolled: int = 0
    already: int = 0
    opted_out: int = 0
    not_found: int = 0


def _require_active(sequence: Sequence) -> None:
    if not engine.still_active(sequence):
        raise ActionError(
            "Activate the sequence before enrolling contacts.", code="inactive", field=None
        )


@transaction.atomic
def do_enrol(
    *, actor: Actor, sequence: Sequence, contact_ids: list[int], source: str = "manual"
) -> EnrolResult:
    """Enrol contacts by hand (or through the API). Contacts already in the
    sequence, opted out, or not of this workspace are counted, not enrolled."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    _require_active(sequence)
    if source not in (Enrolment.Source.MANUAL, Enrolment.Source.API):
        raise ActionError("source is manual or api.", code="invalid_source", field="source")
    ids = sorted({int(i) for i in contact_ids})
    if not ids:
        raise ActionError("Pick the contacts to enrol.", code="required", field="contact_ids")
    if len(ids) > MAX_ENROL:
        raise ActionError(
            f"Enrol at most {MAX_ENROL:,} contacts per call.", code="too_many", field="contact_ids"
        )
    found = dict(
        Contact.objects.filter(workspace=actor.workspace, pk__in=ids).values_list("id", "consent")
    )
    active = set(
        Enrolment.objects.filter(
            workspace=actor.workspace,
            sequence=sequence,
            state=Enrolment.State.ACTIVE,
            contact_id__in=list(found),
        ).values_list("contact_id", flat=True)
    )
    enrolled = engine.enrol(
        workspace_id=actor.workspace.pk,
        sequence=sequence,
        contact_ids=list(found),
        source=source,
        enrolled_by_id=actor.user_id,
    )
    return EnrolResult(
        enrolled=len(enrolled),
        already=len(active),
        opted_out=sum(
            1 for c, consent in found.items() if consent == Consent.OPTED_OUT and c not in active
        ),
        not_found=len(ids) - len(found),
    )


@transaction.atomic
def do_enrol_contact(
    *, actor: Actor, sequence: Sequence, contact: Contact, source: str = "manual"
) -> Enrolment:
    """Enrol one contact; says why not when it cannot."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    _require_active(sequence)
    if contact.consent == Consent.OPTED_OUT:
        raise ActionError(
            f"{contact.display_name} opted out of marketing messages; a drip cannot enrol them.",
            code="opted_out",
            field="contact_id",
        )
    result = do_enrol(actor=actor, sequence=sequence, contact_ids=[contact.pk], source=source)
    if not result.enrolled:
        raise Conflict(
            f"{contact.display_name} is in this sequence already.",
            code="already_enrolled",
            field="contact_id",
        )
    return Enrolment.objects.get(
        workspace=actor.workspace,
        sequence=sequence,
        contact=contact,
        state=Enrolment.State.ACTIVE,
    )


@transaction.atomic
def do_remove_enrolment(*, actor: Actor, enrolment: Enrolment) -> Enrolment:
    """Take a contact out of the sequence; its waiting step is cancelled."""
    actor.require(Cap.CAMPAIGNS_MANAGE)
    engine.end(
        workspace_id=actor.workspace.pk,
        enrolments=Enrolment.objects.filter(pk=enrolment.pk),
        state=Enrolment.State.EXITED,
        reason=Enrolment.Exit.REMOVED,
    )
    enrolment.refresh_from_db()
    return enrolment
