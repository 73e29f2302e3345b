"""Business hours: is the workspace open at a moment, and when did the
current closed window begin.

``is_open`` is called by workflow conditions and by the inbound path, so the
compiled schedule is cached per process: one query reads the workspace's
settings version and time zone, and only a changed version (every edit bumps
it) or time zone reloads the intervals and holidays.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parley.routing.models import Holiday, HoursSettings, OpenInterval

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Holidays further back than this cannot matter to a window that still counts.
HOLIDAY_LOOKBACK = timedelta(days=400)
# How far back to look for the last opening before giving up (a schedule open
# one day a year still finds it).
WINDOW_LOOKBACK_DAYS = 370
CACHE_SIZE = 2048

Interval = tuple[time, time]


@dataclass(frozen=True, slots=True)
class Schedule:
    enabled: bool
    away_enabled: bool
    away_text: str
    zone: ZoneInfo
    week: tuple[tuple[Interval, ...], ...]  # 7 days, Monday first
    holidays: frozenset[date]

    def is_open(self, at: datetime) -> bool:
        """Without business hours switched on, a workspace is always open."""
        if not self.enabled:
            return True
        local = at.astimezone(self.zone)
        if local.date() in self.holidays:
            return False
        now = local.time().replace(tzinfo=None)
        return any(start <= now < end for start, end in self.week[local.weekday()])

    def window_start(self, at: datetime) -> datetime:
        """When the closed window holding ``at`` began: the end of the last
        opening before it. With no opening in a year, the local day's start
        (one away reply per conversation per day)."""
        local = at.astimezone(self.zone)
        day = local.date()
        for back in range(WINDOW_LOOKBACK_DAYS):
            current = day - timedelta(days=back)
            if current in self.holidays:
                continue
            ends = [
                datetime.combine(current, end, tzinfo=self.zone)
                for _start, end in self.week[current.weekday()]
            ]
            ends = [e for e in ends if e <= local]
            if ends:
                return max(ends)
        return datetime.combine(day, time(0), tzinfo=self.zone)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


_cache: OrderedDict[int, tuple[tuple[int, str, str], Schedule]] = OrderedDict()
ALWAYS_OPEN = Schedule(False, False, "", ZoneInfo("UTC"), ((),) * 7, frozenset())


def schedule(workspace_id: int) -> Schedule:
    """The workspace's schedule: one query when the cached one is current."""
    row = (
        HoursSettings.objects.filter(workspace_id=workspace_id)
        .values_list(
            "version", "updated_at", "enabled", "away_enabled", "away_text", "workspace__timezone"
        )
        .first()
    )
    if row is None:
        # Never configured: always open, and no second query on the inbound path.
        return ALWAYS_OPEN
    version, updated_at, enabled, away_enabled, away_text, tz = row
    # The time as well as the number: a version seen inside a transaction that
    # then rolled back may be reused by the next change, its time may not.
    key = (version, updated_at.isoformat(), tz)
    cached = _cache.get(workspace_id)
    if cached is not None and cached[0] == key:
        _cache.move_to_end(workspace_id)
        return cached[1]
    days: list[list[Interval]] = [[] for _ in range(7)]
    for weekday, start, end in OpenInterval.objects.filter(workspace_id=workspace_id).values_list(
        "weekday", "start", "end"
    ):
        days[weekday].append((start, end))
    zone = _zone(tz)
    since = datetime.now(zone).date() - HOLIDAY_LOOKBACK
    holidays = frozenset(
        Holiday.objects.filter(workspace_id=workspace_id, date__gte=since).values_list(
            "date", flat=True
        )
    )
    compiled = Schedule(
        enabled,
        away_enabled,
        away_text,
        zone,
        tuple(tuple(sorted(d)) for d in days),
        holidays,
    )
    _cache[workspace_id] = (key, compiled)
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return compiled


def is_open(*, workspace_id: int, at: datetime) -> bool:
    """Is the workspace inside its business hours at ``at`` (always, when it
    has none)? Call inside the workspace's context."""
    return schedule(workspace_id).is_open(at)
