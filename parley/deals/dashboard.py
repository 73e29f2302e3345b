"""The CRM dashboard's figures, computed in a handful of aggregate queries;
the page and GET /crm/dashboard show the same numbers."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from parley.crm.models import Contact
from parley.deals.board import Money, stage_sums
from parley.deals.extensions import dashboard_tiles
from parley.deals.models import Deal, DealStatus, Pipeline, Stage
from parley.deals.money import default_currency
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap

CONTACT_DAYS = 7


@dataclass
class Closed:
    count: int = 0
    totals: list[Money] = field(default_factory=list)


@dataclass
class StageBar:
    stage: Stage
    count: int
    totals: list[Money]
    percent: int  # bar length against the largest stage, in the main currency


@dataclass
class DayCount:
    day: date
    count: int
    percent: int


@dataclass
class Summary:
    pipeline: Pipeline
    currency: str  # the currency the bars are drawn in
    stages: list[StageBar]
    won_this_month: Closed
    won_last_month: Closed
    lost_this_month: Closed
    lost_last_month: Closed
    new_contacts: list[DayCount]
    new_contacts_total: int
    extra: dict[str, dict[str, Any]]


def workspace_tz(actor: Actor) -> ZoneInfo:
    try:
        return ZoneInfo(actor.workspace.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _month_starts(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    local = now.astimezone(tz)
    this_month = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    return this_month, last_month


def _closed(actor: Actor, now: datetime, tz: ZoneInfo) -> dict[tuple[str, bool], Closed]:
    """Won and lost deals of this month and last month, in one query."""
    this_month, last_month = _month_starts(now, tz)
    current = Q(closed_at__gte=this_month)
    rows = (
        Deal.objects.filter(
            workspace=actor.workspace,
            status__in=[DealStatus.WON, DealStatus.LOST],
            closed_at__gte=last_month,
            closed_at__lte=now,
        )
        .values("status", "currency")
        .annotate(
            n_now=Count("id", filter=current),
            v_now=Sum("value", filter=current),
            n_before=Count("id", filter=~current),
            v_before=Sum("value", filter=~current),
        )
        .order_by()
    )
    out: dict[tuple[str, bool], Closed] = defaultdict(Closed)
    for row in rows:
        for is_now, n, v in (
            (True, row["n_now"], row["v_now"]),
            (False, row["n_before"], row["v_before"]),
        ):
            if n:
                bucket = out[(row["status"], is_now)]
                bucket.count += n
                bucket.totals.append(Money(row["currency"], v or Decimal("0")))
    for bucket in out.values():
        bucket.totals.sort(key=lambda m: -m.amount)
    return out


def _new_contacts(actor: Actor, now: datetime, tz: ZoneInfo) -> list[DayCount]:
    today = now.astimezone(tz).date()
    first = today - timedelta(days=CONTACT_DAYS - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=tz)
    counts = dict(
        Contact.objects.filter(workspace=actor.workspace, created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("day", "n")
    )
    top = max(counts.values(), default=0)
    days = [first + timedelta(days=i) for i in range(CONTACT_DAYS)]
    return [
        DayCount(d, counts.get(d, 0), round(100 * counts.get(d, 0) / top) if top else 0)
        for d in days
    ]


def summary(actor: Actor, pipeline: Pipeline, now: datetime | None = None) -> Summary:
    actor.require(Cap.CONTACTS_READ)
    now = now or timezone.now()
    tz = workspace_tz(actor)
    stages = list(
        Stage.objects.filter(workspace=actor.workspace, pipeline=pipeline).order_by(
            "position", "id"
        )
    )
    sums = stage_sums(actor, pipeline)
    # Bars in the currency holding most of the open value's deals; amounts in
    # other currencies are listed, not converted (no exchange rates here).
    per_currency: dict[str, int] = defaultdict(int)
    for _count, totals in sums.values():
        for money in totals:
            per_currency[money.currency] += 1
    currency = (
        max(per_currency, key=lambda c: per_currency[c])
        if per_currency
        else default_currency(actor.workspace)
    )

    def main_amount(totals: list[Money]) -> Decimal:
        return next((m.amount for m in totals if m.currency == currency), Decimal("0"))

    top = max((main_amount(t) for _n, t in sums.values()), default=Decimal("0"))
    bars = []
    for stage in stages:
        count, totals = sums.get(stage.pk, (0, []))
        amount = main_amount(totals)
        bars.append(StageBar(stage, count, totals, round(100 * amount / top) if top else 0))
    closed = _closed(actor, now, tz)
    new_contacts = _new_contacts(actor, now, tz)
    return Summary(
        pipeline=pipeline,
        currency=currency,
        stages=bars,
        won_this_month=closed.get((DealStatus.WON, True), Closed()),
        won_last_month=closed.get((DealStatus.WON, False), Closed()),
        lost_this_month=closed.get((DealStatus.LOST, True), Closed()),
        lost_last_month=closed.get((DealStatus.LOST, False), Closed()),
        new_contacts=new_contacts,
        new_contacts_total=sum(d.count for d in new_contacts),
        extra={tile.name: tile.figures(actor) for tile in dashboard_tiles()},
    )
