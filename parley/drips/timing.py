"""When a step goes out: its delay, then its sending window, in the
workspace's timezone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from parley.drips.models import DelayUnit, Step


def workspace_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def time_scale() -> float:
    """Delays are divided by this (``PARLEY_DRIPS_TIME_SCALE``, default 1):
    a demo or an acceptance run can watch a week-long drip in minutes."""
    scale = float(getattr(settings, "PARLEY_DRIPS_TIME_SCALE", 1) or 1)
    return scale if scale > 0 else 1.0


def after_delay(step: Step, start: datetime, zone: ZoneInfo) -> datetime:
    """``start`` plus the step's delay. Days are calendar days in the
    workspace's timezone ("2 days later at the same time", across a DST
    change); minutes and hours are elapsed time."""
    scale = time_scale()
    if step.delay_unit == DelayUnit.DAYS and scale == 1:
        # Aware arithmetic in one zone is wall-clock arithmetic.
        local = start.astimezone(zone) + timedelta(days=step.delay_amount)
        return local.astimezone(UTC)
    return start + step.delay / scale


def window_opening(
    when: datetime, zone: ZoneInfo, days: list[int], start: time | None, end: time | None
) -> datetime:
    """``when`` if it falls inside the window, else the window's next opening.

    ``days``: weekdays (0 = Monday) the window is open; empty means always.
    ``start``/``end``: local times of day (end excluded); missing means the
    whole day. An opening that does not exist locally (a DST gap) resolves
    to the same UTC instant zoneinfo gives it, just after the gap."""
    if not days:
        return when
    open_at = start or time(0, 0)
    local = when.astimezone(zone)
    for offset in range(0, 8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        opening = datetime.combine(day, open_at, tzinfo=zone)
        closing = (
            datetime.combine(day, end, tzinfo=zone)
            if end is not None
            else datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
        )
        # Compare as instants (UTC), not as wall-clock times.
        opening_utc, closing_utc = opening.astimezone(UTC), closing.astimezone(UTC)
        if when < opening_utc:
            return opening_utc
        if when < closing_utc:
            return when
    return when  # unreachable with a valid window (some day in the next week opens)


def due_at(step: Step, start: datetime, zone: ZoneInfo) -> datetime:
    """When ``step`` goes out for a contact whose previous step (or
    enrolment) was at ``start``."""
    return window_opening(
        after_delay(step, start, zone), zone, step.window_days, step.window_start, step.window_end
    )
