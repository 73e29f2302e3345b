"""The log page's filters and the retention setting."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms

from parley.executions.access import Filters, Source
from parley.executions.models import Kind, LogSettings, Status

SOURCE_PATTERN = r"^(workflow|drip|webhook|rule):\d{1,18}$"


class FilterForm(forms.Form):
    kind = forms.ChoiceField(
        label="Type", required=False, choices=[("", "All types"), *Kind.choices]
    )
    status = forms.ChoiceField(required=False, choices=[("", "All statuses"), *Status.choices])
    source = forms.RegexField(
        label="Workflow / source",
        required=False,
        regex=SOURCE_PATTERN,
        error_messages={"invalid": "Pick a source from the list (kind:id, e.g. workflow:12)."},
    )
    date_from = forms.DateField(
        label="From", required=False, widget=forms.DateInput({"type": "date"})
    )
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))

    def __init__(self, *args: Any, sources: list[Source], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sources = sources

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date must not come before the start date.")
        return data

    def filters(self, zone: ZoneInfo) -> Filters:
        """The valid part of what was asked (an invalid field is shown as an
        error and left out, never a 500)."""
        data = self.cleaned_data if self.is_bound else {}
        kind = str(data.get("kind") or "")
        source_id: int | None = None
        if source := data.get("source"):
            kind, _, raw = str(source).partition(":")
            source_id = int(raw)
        return Filters(
            kind=kind,
            status=str(data.get("status") or ""),
            source_id=source_id,
            since=_start_of(data.get("date_from"), zone),
            until=_start_of(_next_day(data.get("date_to")), zone),
        )

    def source_choices(self) -> list[tuple[str, str]]:
        choices = [(s.value, s.title) for s in self.sources]
        current = self.data.get("source") if self.is_bound else ""
        if current and current not in {v for v, _ in choices} and not self.errors.get("source"):
            choices.append((str(current), str(current)))
        return choices


def _next_day(day: date | None) -> date | None:
    return day + timedelta(days=1) if day else None


def _start_of(day: date | None, zone: ZoneInfo) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=zone) if day else None


class RetentionForm(forms.Form):
    days = forms.IntegerField(
        label="Keep logs for (days)",
        min_value=LogSettings.MIN_RETENTION_DAYS,
        max_value=LogSettings.MAX_RETENTION_DAYS,
    )
