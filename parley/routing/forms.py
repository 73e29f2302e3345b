"""Forms of the routing page; choices are filled per workspace by the view.
Validation beyond types is the actions' (errors come back on the fields)."""

from __future__ import annotations

from datetime import time
from typing import Any

from django import forms

from parley.routing.actions import HoursFields, parse_day
from parley.routing.hours import WEEKDAYS
from parley.routing.models import ChannelRouting


def _span(start: time, end: time) -> str:
    end_text = "24:00" if end >= time(23, 59, 59) else f"{end:%H:%M}"
    return f"{start:%H:%M}-{end_text}"


class TeamForm(forms.Form):
    name = forms.CharField(max_length=80)
    member_ids = forms.MultipleChoiceField(
        label="Members", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, people: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member_ids"].choices = [(str(u), n) for u, n in people]  # type: ignore[attr-defined]

    def members(self) -> list[int]:
        return [int(i) for i in self.cleaned_data["member_ids"]]


class ChannelRoutingForm(forms.Form):
    mode = forms.ChoiceField(choices=ChannelRouting.Mode.choices)
    team_id = forms.ChoiceField(label="Team", required=False)

    def __init__(self, *args: Any, teams: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team_id"].choices = [("", "Anyone available")] + [  # type: ignore[attr-defined]
            (str(t), n) for t, n in teams
        ]

    def team(self) -> int | None:
        raw = self.cleaned_data.get("team_id") or ""
        return int(raw) if raw else None


class HoursForm(forms.Form):
    enabled = forms.BooleanField(label="Use business hours (off: always open)", required=False)
    away_enabled = forms.BooleanField(
        label="Reply automatically outside business hours", required=False
    )
    away_text = forms.CharField(
        label="Away reply",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Sent once per conversation per closed period, when the customer writes.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for index, name in enumerate(WEEKDAYS):
            self.fields[f"day_{index}"] = forms.CharField(
                label=name,
                required=False,
                help_text="" if index else "Like 09:00-12:30, 13:30-18:00; empty: closed.",
            )

    def day_fields(self) -> list[forms.BoundField]:
        return [self[f"day_{i}"] for i in range(7)]

    def fields_value(self) -> HoursFields:
        intervals = []
        for index in range(7):
            intervals += parse_day(self.cleaned_data.get(f"day_{index}") or "", index)
        return HoursFields(
            enabled=self.cleaned_data["enabled"],
            intervals=intervals,
            away_enabled=self.cleaned_data["away_enabled"],
            away_text=self.cleaned_data["away_text"],
        )

    @staticmethod
    def initial_of(
        enabled: bool, away_enabled: bool, away_text: str, intervals: list[tuple[int, time, time]]
    ) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "enabled": enabled,
            "away_enabled": away_enabled,
            "away_text": away_text,
        }
        for index in range(7):
            initial[f"day_{index}"] = ", ".join(
                _span(s, e) for d, s, e in sorted(intervals) if d == index
            )
        return initial


class HolidayForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(max_length=80, required=False)
