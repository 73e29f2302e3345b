"""Drip sequences: steps sent to a contact one after another, with delays,
from the moment something enrols them until they finish or leave.

Sending goes through the outbox: each step a contact reaches becomes one
``OutboundItem`` (source "drip", source_id = the step, lane = the sequence),
and the next step is planned only when that item finishes (hooks.py). So an
active enrolment has at most one item waiting at any time.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from parley.core.models import TenantModel


class Trigger(models.TextChoices):
    TAG_ADDED = "tag_added", "Tag added"
    CONTACT_CREATED = "contact_created", "Contact created"
    SEGMENT_ENTERED = "segment_entered", "Segment entered"
    KEYWORD = "keyword", "Keyword received"
    MANUAL = "manual", "Manual only"
    API = "api", "API only"


class Sequence(TenantModel):
    name = models.CharField(max_length=120)
    channel = models.ForeignKey("whatsapp.Channel", on_delete=models.CASCADE, related_name="+")
    active = models.BooleanField(default=False)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    trigger_tag = models.ForeignKey(
        "crm.Tag", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    trigger_segment = models.ForeignKey(
        "segments.Segment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Lower-cased, trimmed; an inbound text equal to one of them enrols.
    keywords = models.JSONField(default=list, blank=True)
    # Exits. Opting out always ends an enrolment (no switch: a drip is marketing).
    exit_on_reply = models.BooleanField(default=True)
    exit_tag = models.ForeignKey(
        "crm.Tag", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    goal_tag = models.ForeignKey(
        "crm.Tag", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    goal_segment = models.ForeignKey(
        "segments.Segment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "active", "trigger"], name="drip_seq_trigger_idx"),
            # The segment scheduler's cross-tenant look (few rows).
            models.Index(
                fields=["trigger"],
                name="drip_seq_segment_idx",
                condition=models.Q(active=True, trigger="segment_entered"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def trigger_label(self) -> str:
        """What enrols contacts, in words (tag and segment loaded by the caller)."""
        if self.trigger == Trigger.TAG_ADDED:
            tag = self.trigger_tag
            return f"Tag “{tag.name}” added" if tag is not None else "Tag added (tag deleted)"
        if self.trigger == Trigger.SEGMENT_ENTERED:
            segment = self.trigger_segment
            return (
                f"Enters segment “{segment.name}”"
                if segment is not None
                else "Segment entered (segment deleted)"
            )
        if self.trigger == Trigger.KEYWORD:
            return "Keyword: " + ", ".join(self.keywords or [])
        return str(Trigger(self.trigger).label)


class DelayUnit(models.TextChoices):
    MINUTES = "minutes", "minutes"
    HOURS = "hours", "hours"
    DAYS = "days", "days"


class Condition(models.TextChoices):
    NONE = "", "Always"
    HAS_TAG = "has_tag", "Contact has the tag"
    LACKS_TAG = "lacks_tag", "Contact lacks the tag"
    IN_SEGMENT = "in_segment", "Contact is in the segment"
    NOT_IN_SEGMENT = "not_in_segment", "Contact is not in the segment"


DASH = "\u2013"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Step(TenantModel):
    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=1)
    # A template with its variable mapping, or a free text (which only goes
    # out inside the 24-hour window; the dispatcher fails it otherwise).
    content = models.ForeignKey(
        "outbox.OutboundContent", on_delete=models.CASCADE, related_name="+"
    )
    # After the previous step went out (after enrolment, for the first).
    delay_amount = models.PositiveIntegerField(default=0)
    delay_unit = models.CharField(max_length=8, choices=DelayUnit.choices, default=DelayUnit.DAYS)
    # Sending window in the workspace's timezone: weekdays (0 = Monday) and
    # hours; no days means any time. A send due outside waits for the next opening.
    window_days = models.JSONField(default=list, blank=True)
    window_start = models.TimeField(null=True, blank=True)
    window_end = models.TimeField(null=True, blank=True)
    # Checked just before sending; a contact who fails it skips the step.
    condition = models.CharField(max_length=16, choices=Condition.choices, default="", blank=True)
    condition_tag = models.ForeignKey(
        "crm.Tag", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    condition_segment = models.ForeignKey(
        "segments.Segment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["workspace", "sequence", "position"], name="drip_step_idx")]

    def __str__(self) -> str:
        return f"step {self.position} of {self.sequence_id}"

    @property
    def delay(self) -> timedelta:
        return timedelta(**{self.delay_unit: self.delay_amount})

    @property
    def has_window(self) -> bool:
        return bool(self.window_days)

    @property
    def delay_label(self) -> str:
        if not self.delay_amount:
            return "right away"
        unit = str(self.delay_unit)
        return f"{self.delay_amount} {unit[:-1] if self.delay_amount == 1 else unit}"

    @property
    def window_label(self) -> str:
        """'Mon-Fri 09:00-17:00' (with en dashes), or '' without a window."""
        days = sorted(int(d) for d in self.window_days or [])
        if not days:
            return ""
        runs: list[list[int]] = []
        for day in days:
            if runs and runs[-1][-1] == day - 1:
                runs[-1].append(day)
            else:
                runs.append([day])
        names = ", ".join(
            WEEKDAYS[r[0]] if len(r) == 1 else f"{WEEKDAYS[r[0]]}{DASH}{WEEKDAYS[r[-1]]}"
            for r in runs
        )
        if self.window_start is None and self.window_end is None:
            return names
        start = self.window_start.strftime("%H:%M") if self.window_start else "00:00"
        end = self.window_end.strftime("%H:%M") if self.window_end else "24:00"
        return f"{names} {start}{DASH}{end}"

    @property
    def condition_label(self) -> str:
        if not self.condition:
            return ""
        if self.condition in (Condition.HAS_TAG, Condition.LACKS_TAG):
            tag = self.condition_tag
            what = f"the tag “{tag.name}”" if tag is not None else "a deleted tag"
            verb = "has" if self.condition == Condition.HAS_TAG else "lacks"
            return f"only if the contact {verb} {what}"
        segment = self.condition_segment
        what = f"the segment “{segment.name}”" if segment is not None else "a deleted segment"
        verb = "is in" if self.condition == Condition.IN_SEGMENT else "is not in"
        return f"only if the contact {verb} {what}"


class Enrolment(TenantModel):
    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        EXITED = "exited", "Exited"

    class Exit(models.TextChoices):
        NONE = "", "—"
        REPLIED = "replied", "Replied"
        TAG_REMOVED = "tag_removed", "Tag removed"
        OPTED_OUT = "opted_out", "Opted out"
        GOAL_REACHED = "goal_reached", "Goal reached"
        REMOVED = "removed", "Removed by hand"

    class Source(models.TextChoices):
        TAG_ADDED = "tag_added", "Tag added"
        CONTACT_CREATED = "contact_created", "Contact created"
        SEGMENT_ENTERED = "segment_entered", "Segment entered"
        KEYWORD = "keyword", "Keyword"
        MANUAL = "manual", "By hand"
        API = "api", "API"

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="enrolments")
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=12, choices=State.choices, default=State.ACTIVE)
    exit_reason = models.CharField(max_length=16, choices=Exit.choices, default="", blank=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    # The step whose item is waiting (or went out last), and that item.
    current_step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    current_item = models.ForeignKey(
        "outbox.OutboundItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    enrolled_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "sequence", "contact"],
                condition=models.Q(state="active"),
                name="enrolment_one_active",
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "sequence", "state", "id"], name="enrolment_seq_idx"),
            models.Index(fields=["workspace", "contact", "state"], name="enrolment_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.sequence_id} ({self.state})"


class StepRun(TenantModel):
    """One step sent (or planned) to one enrolment: the link from an outbox
    item back to who and what it was for. Its state is the item's."""

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="+")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="runs")
    # Kept (without the step) when a step is deleted: the send log stays whole.
    step = models.ForeignKey(
        Step, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    item = models.ForeignKey("outbox.OutboundItem", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "item"], name="steprun_unique_item")
        ]
        indexes = [
            models.Index(fields=["workspace", "enrolment"], name="steprun_enrolment_idx"),
            models.Index(fields=["workspace", "sequence", "id"], name="steprun_sequence_idx"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk}"


class SegmentMember(TenantModel):
    """Who matched a segment-triggered sequence's segment at its last check:
    a contact matching now but absent here has entered the segment."""

    sequence = models.ForeignKey(Sequence, on_delete=models.CASCADE, related_name="+")
    # No foreign key: a deleted contact simply drops out at the next check.
    contact_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "sequence", "contact_id"], name="segmentmember_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.sequence_id}"
