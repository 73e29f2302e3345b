"""The 24-hour runs chart as SVG geometry (computed here so the template
only draws rectangles: no script, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from parley.executions.access import HourBar

# Bottom to top; the same order as the legend.
ORDER = ("succeeded", "failed", "stopped", "waiting", "running")
COLORS = {
    "succeeded": "#12b76a",
    "failed": "#d92d20",
    "stopped": "#98a2b3",
    "waiting": "#f79009",
    "running": "#2e90fa",
}
BAR_WIDTH = 16
GAP = 4
HEIGHT = 90


@dataclass(frozen=True)
class Segment:
    x: int
    y: float
    height: float
    color: str
    title: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    segments: list[Segment]
    peak: int
    total: int
    first_label: str
    last_label: str
    legend: list[tuple[str, str, int]]


def build(bars: list[HourBar], zone: ZoneInfo) -> Chart:
    peak = max((b.total for b in bars), default=0)
    segments: list[Segment] = []
    sums = dict.fromkeys(ORDER, 0)
    for index, bar in enumerate(bars):
        x = index * (BAR_WIDTH + GAP)
        y = float(HEIGHT)
        hour = _local(bar.hour, zone)
        for status in ORDER:
            count = bar.counts.get(status, 0)
            if not count:
                continue
            sums[status] += count
            h = max(HEIGHT * count / peak, 1.5)
            y -= h
            segments.append(
                Segment(x, round(y, 2), round(h, 2), COLORS[status], f"{hour}: {count} {status}")
            )
    return Chart(
        width=len(bars) * (BAR_WIDTH + GAP) - GAP,
        height=HEIGHT,
        segments=segments,
        peak=peak,
        total=sum(sums.values()),
        first_label=_local(bars[0].hour, zone) if bars else "",
        last_label=_local(bars[-1].hour, zone) if bars else "",
        legend=[(s, COLORS[s], sums[s]) for s in ORDER],
    )


def _local(when: datetime, zone: ZoneInfo) -> str:
    return when.astimezone(zone).strftime("%H:00")
