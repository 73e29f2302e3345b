"""Turning what a person typed ("29 March, 02:30" in the workspace's zone, or
an ISO time with an offset) into the instant to send, honestly about DST: a
wall time that does not exist is refused, one that happens twice is read as
the first and said so. And showing instants back in a zone, with its
abbreviation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from django.utils import timezone
from phonenumbers import timezone as phone_zones

from parley.core.errors import ActionError

# A time this far in the past still goes out (the form took a moment to submit).
PAST_GRACE = timedelta(seconds=10)
# Wall-clock jumps are at most a few hours; walking back minute by minute
# from a missing time finds where the gap starts.
_MAX_GAP_MINUTES = 4 * 60


@dataclass(frozen=True)
class Resolved:
    send_at: datetime  # aware, UTC
    local: datetime  # naive wall time, as entered (or as read in the zone)
    zone_name: str  # an IANA name, or "UTC+02:00" for an explicit offset
    note: str = ""  # said to the person, e.g. the fall-back choice


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def offset_label(offset: timedelta | None) -> str:
    """UTC+02:00, UTC-04:30, UTC."""
    if not offset:
        return "UTC"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def exists(wall: datetime, tz: tzinfo) -> bool:
    """Whether the naive wall time ``wall`` happens at all in ``tz``."""
    there = wall.replace(tzinfo=tz, fold=0)
    return there.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


def _clock(wall: datetime) -> str:
    return f"{wall:%H:%M}"


def _day(wall: datetime) -> str:
    return f"{wall:%a} {wall.day} {wall:%b %Y}"


def read_local(wall: datetime, zone_name: str) -> Resolved:
    """``wall`` (naive) as a time in the zone ``zone_name``.

    Raises ActionError for a wall time inside a spring-forward gap; a wall
    time that a fall-back repeats is read as its first occurrence, with a note.
    """
    wall = wall.replace(tzinfo=None, fold=0)
    tz = zone(zone_name)
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    if not exists(wall, tz):
        start = wall.replace(second=0, microsecond=0)
        steps = 0
        while steps < _MAX_GAP_MINUTES and not exists(start - timedelta(minutes=1), tz):
            start -= timedelta(minutes=1)
            steps += 1
        jump = (second.utcoffset() or timedelta(0)) - (first.utcoffset() or timedelta(0))
        # In a gap fold=0 reads the old offset and fold=1 the new one; an
        # unusual zone may have them the other way round.
        jump = abs(jump) or timedelta(hours=1)
        end = start + jump
        before = start - timedelta(minutes=1)
        raise ActionError(
            f"{_clock(wall)} does not exist on {_day(wall)} in {tz.key}: the clocks jump "
            f"from {_clock(start)} to {_clock(end)} "
            f"({(start - timedelta(minutes=1)).replace(tzinfo=tz).tzname()} to "
            f"{end.replace(tzinfo=tz).tzname()}). Pick {_clock(before)} or earlier, "
            f"or {_clock(end)} or later.",
            code="nonexistent_time",
            field="send_at",
        )
    note = ""
    if first.utcoffset() != second.utcoffset():
        later = second.astimezone(UTC)
        note = (
            f"{_clock(wall)} happens twice on {_day(wall)} in {tz.key} (the clocks go back). "
            f"Scheduled for the first time, {_clock(wall)} {first.tzname()} "
            f"({first.astimezone(UTC):%H:%M} UTC); the second would be {_clock(wall)} "
            f"{second.tzname()} ({later:%H:%M} UTC)."
        )
    return Resolved(send_at=first.astimezone(UTC), local=wall, zone_name=tz.key, note=note)


def read_input(when: datetime, zone_name: str) -> Resolved:
    """A time from a form or the API: with an offset it is exact; without one
    it is a wall time in ``zone_name`` (the workspace's timezone)."""
    if timezone.is_naive(when):
        return read_local(when, zone_name)
    offset = when.utcoffset()
    return Resolved(
        send_at=when.astimezone(UTC),
        local=when.replace(tzinfo=None),
        zone_name=offset_label(offset),
    )


def refuse_past(send_at: datetime, zone_name: str, *, now: datetime | None = None) -> None:
    now = now or timezone.now()
    if send_at < now - PAST_GRACE:
        tz = zone(zone_name)
        raise ActionError(
            f"That time has passed: it is now {label(now, tz)}. Pick a time in the future.",
            code="in_the_past",
            field="send_at",
        )


def label(when: datetime, tz: tzinfo) -> str:
    """Sun 29 Mar 2026, 03:30 CEST."""
    local = when.astimezone(tz)
    return f"{_day(local)}, {local:%H:%M} {local.tzname() or ''}".rstrip()


def zone_summary(zone_name: str, now: datetime | None = None) -> str:
    """Europe/Berlin (CET, UTC+01:00 now)."""
    tz = zone(zone_name)
    local = (now or timezone.now()).astimezone(tz)
    return f"{tz.key} ({local.tzname()}, {offset_label(local.utcoffset())} now)"


def contact_zone(number: str) -> ZoneInfo | None:
    """The zone a phone number is in, when its country/area has exactly one."""
    digits = number.lstrip("+")
    if not digits.isdigit():
        return None
    try:
        parsed = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return None
    names = [n for n in phone_zones.time_zones_for_number(parsed) if n != "Etc/Unknown"]
    if len(names) != 1:
        return None
    try:
        return ZoneInfo(names[0])
    except (ZoneInfoNotFoundError, ValueError):
        return None
