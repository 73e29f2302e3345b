"""The board of one pipeline: columns of open deals with their count and total.
Three queries whatever the size: stages, per-stage sums, the top cards per column."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Sum, Window
from django.db.models.functions import RowNumber

from parley.deals.models import Deal, DealStatus, Pipeline, Stage
from parley.deals.money import format_money
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap

# Cards rendered per column; the count and total still cover every deal.
PER_COLUMN = 100


@dataclass
class Money:
    currency: str
    amount: Decimal

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)


@dataclass
class Column:
    stage: Stage
    count: int = 0
    totals: list[Money] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)

    @property
    def hidden(self) -> int:
        return self.count - len(self.deals)


def stage_sums(actor: Actor, pipeline: Pipeline) -> dict[int, tuple[int, list[Money]]]:
    """Open deals per stage: (count, totals by currency, largest first)."""
    rows = (
        Deal.objects.filter(workspace=actor.workspace, pipeline=pipeline, status=DealStatus.OPEN)
        .values("stage_id", "currency")
        .annotate(n=Count("id"), total=Sum("value"))
        .order_by()
    )
    counts: dict[int, int] = defaultdict(int)
    totals: dict[int, list[Money]] = defaultdict(list)
    for row in rows:
        counts[row["stage_id"]] += row["n"]
        totals[row["stage_id"]].append(Money(row["currency"], row["total"] or Decimal("0")))
    return {
        stage_id: (counts[stage_id], sorted(totals[stage_id], key=lambda m: -m.amount))
        for stage_id in counts
    }


def board(actor: Actor, pipeline: Pipeline, per_column: int = PER_COLUMN) -> list[Column]:
    actor.require(Cap.CONTACTS_READ)
    stages = list(
        Stage.objects.filter(workspace=actor.workspace, pipeline=pipeline).order_by(
            "position", "id"
        )
    )
    columns = {s.pk: Column(stage=s) for s in stages}
    for stage_id, (count, totals) in stage_sums(actor, pipeline).items():
        if stage_id in columns:
            columns[stage_id].count, columns[stage_id].totals = count, totals
    cards = (
        Deal.objects.filter(workspace=actor.workspace, pipeline=pipeline, status=DealStatus.OPEN)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("stage_id")], order_by=[F("position"), F("id")]
            )
        )
        .filter(rank__lte=per_column)
        .select_related("contact", "owner")
        .order_by("position", "id")
    )
    for deal in cards:
        columns[deal.stage_id].deals.append(deal)
    return list(columns.values())
