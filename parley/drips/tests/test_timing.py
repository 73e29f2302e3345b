"""Delays and sending windows in the workspace's timezone, across days and DST."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from parley.drips.models import Step
from parley.drips.timing import after_delay, due_at, window_opening

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = [0, 1, 2, 3, 4]
NINE, FIVE = time(9, 0), time(17, 0)


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_inside_the_window_is_unchanged() -> None:
    # Tuesday 2026-03-03 10:00 EST = 15:00 UTC.
    when = utc(2026, 3, 3, 15, 0)
    assert window_opening(when, NY, WEEKDAYS, NINE, FIVE) == when


def test_before_opening_waits_for_the_same_day() -> None:
    # Tuesday 07:30 EST -> 09:00 EST (14:00 UTC).
    assert window_opening(utc(2026, 3, 3, 12, 30), NY, WEEKDAYS, NINE, FIVE) == utc(
        2026, 3, 3, 14, 0
    )


def test_after_closing_goes_to_the_next_open_day_across_a_weekend_and_dst() -> None:
    # Friday 2026-03-06 18:00 EST (23:00 UTC): the next opening is Monday
    # 2026-03-09 09:00, which is EDT after the switch on Sunday the 8th: 13:00 UTC.
    assert window_opening(utc(2026, 3, 6, 23, 0), NY, WEEKDAYS, NINE, FIVE) == utc(
        2026, 3, 9, 13, 0
    )
    # The same weekend without DST a week earlier: 14:00 UTC.
    assert window_opening(utc(2026, 2, 27, 23, 0), NY, WEEKDAYS, NINE, FIVE) == utc(
        2026, 3, 2, 14, 0
    )


def test_the_window_is_read_in_local_time_not_utc() -> None:
    # Monday 00:30 in Berlin is still Sunday 23:30 UTC: open (Monday) in Berlin.
    when = utc(2026, 6, 7, 22, 30)  # Monday 00:30 CEST
    assert window_opening(when, BERLIN, [0], None, None) == when
    # Sunday 23:30 local (21:30 UTC) waits for Monday 00:00 local = 22:00 UTC.
    assert window_opening(utc(2026, 6, 7, 21, 30), BERLIN, [0], None, None) == utc(
        2026, 6, 7, 22, 0
    )


def test_an_opening_inside_the_dst_gap_comes_right_after_it() -> None:
    # 02:30 does not exist in New York on 2026-03-08; the window opens at 03:30 EDT.
    opening = window_opening(utc(2026, 3, 8, 5, 0), NY, [6], time(2, 30), time(4, 0))
    assert opening == utc(2026, 3, 8, 7, 30)
    assert opening.astimezone(NY).strftime("%H:%M %Z") == "03:30 EDT"


def test_no_window_is_any_time() -> None:
    when = utc(2026, 3, 7, 3, 0)
    assert window_opening(when, NY, [], None, None) == when


def _step(amount: int, unit: str, **window: object) -> Step:
    return Step(delay_amount=amount, delay_unit=unit, **window)


def test_day_delays_keep_the_local_time_across_dst() -> None:
    # Saturday 2026-03-07 10:00 EST + 1 day = Sunday 10:00 EDT (23 hours later).
    start = utc(2026, 3, 7, 15, 0)
    assert after_delay(_step(1, "days"), start, NY) == utc(2026, 3, 8, 14, 0)
    # Hours are elapsed time.
    assert after_delay(_step(24, "hours"), start, NY) == utc(2026, 3, 8, 15, 0)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Thursday 16:00 EST + 2 hours = 18:00, closed: Friday 09:00 EST.
        (utc(2026, 3, 5, 21, 0), utc(2026, 3, 6, 14, 0)),
        # Friday 16:00 EST + 2 hours: closed until Monday 09:00 EDT.
        (utc(2026, 3, 6, 21, 0), utc(2026, 3, 9, 13, 0)),
        # Monday 10:00 EDT + 2 hours: inside.
        (utc(2026, 3, 9, 14, 0), utc(2026, 3, 9, 16, 0)),
    ],
)
def test_delay_then_window(start: datetime, expected: datetime) -> None:
    step = _step(2, "hours", window_days=WEEKDAYS, window_start=NINE, window_end=FIVE)
    assert due_at(step, start, NY) == expected


def test_the_time_scale_shortens_delays_for_demos(settings: Any) -> None:
    settings.PARLEY_DRIPS_TIME_SCALE = 1440  # a day becomes a minute
    start = utc(2026, 3, 7, 15, 0)
    assert after_delay(_step(2, "days"), start, NY) == utc(2026, 3, 7, 15, 2)
    assert after_delay(_step(3, "hours"), start, NY) == datetime(
        2026, 3, 7, 15, 0, 7, 500_000, tzinfo=UTC
    )
