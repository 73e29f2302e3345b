"""API shapes for pipelines, stages, deals and the CRM dashboard."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema


class StageOut(Schema):
    id: int
    pipeline_id: int
    name: str
    position: int
    probability: int | None


class PipelineOut(Schema):
    id: int
    name: str
    position: int
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(obj: Any) -> list[Any]:
        return sorted(obj.stages.all(), key=lambda s: (s.position, s.pk))


class PipelineIn(Schema):
    name: str = Field(examples=["Enterprise"])
    stages: list[str] | None = Field(
        None,
        examples=[["Lead", "Demo", "Trial", "Contract"]],
        description="Stage names in order; the default stages (New, Qualified, Proposal, "
        "Negotiation) when omitted",
    )


class PipelineUpdateIn(Schema):
    name: str = Field(examples=["Enterprise sales"])


class StageIn(Schema):
    name: str = Field(examples=["Demo booked"])
    probability: int | None = Field(None, examples=[40], description="Win probability, 0-100")


class StageUpdateIn(Schema):
    name: str | None = Field(None, examples=["Demo done"])
    probability: int | None = Field(
        None, examples=[60], description="Win probability, 0-100; null clears it"
    )


class StageOrderIn(Schema):
    stage_ids: list[int] = Field(
        examples=[[14, 12, 13, 15]], description="Every stage of the pipeline, in the new order"
    )


class DealOut(Schema):
    id: int
    title: str
    contact_id: int | None
    contact_name: str | None = None
    pipeline_id: int
    stage_id: int
    stage_name: str = ""
    value: Decimal
    currency: str
    owner_id: int | None
    expected_close_date: date | None
    status: str
    lost_reason: str
    closed_at: datetime | None
    position: int
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_contact_name(obj: Any) -> str | None:
        return obj.contact.display_name if obj.contact_id else None

    @staticmethod
    def resolve_stage_name(obj: Any) -> str:
        return str(obj.stage.name)


class DealPage(Schema):
    items: list[DealOut]
    next_cursor: str | None


class DealIn(Schema):
    title: str = Field(examples=["50 seats, annual plan"])
    pipeline_id: int | None = Field(
        None, examples=[3], description="Defaults to the stage's pipeline, or the first pipeline"
    )
    stage_id: int | None = Field(
        None, examples=[12], description="Defaults to the pipeline's first stage"
    )
    contact_id: int | None = Field(None, examples=[42])
    value: Decimal = Field(Decimal("0"), examples=["12500.00"])
    currency: str = Field(
        "", examples=["EUR"], description="ISO 4217; defaults to the workspace's currency"
    )
    owner_id: int | None = Field(
        None, examples=[7], description="A member's user id; defaults to the caller"
    )
    expected_close_date: date | None = Field(None, examples=["2026-09-30"])


class DealUpdateIn(Schema):
    """Only the fields sent are changed; null clears contact, owner or date."""

    title: str | None = Field(None, examples=["60 seats, annual plan"])
    contact_id: int | None = Field(None, examples=[42])
    value: Decimal | None = Field(None, examples=["15000"])
    currency: str | None = Field(None, examples=["USD"])
    owner_id: int | None = Field(None, examples=[7])
    expected_close_date: date | None = Field(None, examples=["2026-10-15"])


class MoveIn(Schema):
    stage_id: int = Field(examples=[13])
    position: int | None = Field(
        None, examples=[0], description="0 is the top of the column; omitted means the bottom"
    )


class LostIn(Schema):
    reason: str = Field(examples=["Chose a cheaper competitor"])


class DealEventOut(Schema):
    id: int
    kind: str
    data: dict[str, Any]
    actor_id: int | None
    at: datetime


class MoneyOut(Schema):
    currency: str
    amount: Decimal


class ClosedOut(Schema):
    count: int
    totals: list[MoneyOut]


class StageValueOut(Schema):
    stage_id: int
    name: str
    count: int
    totals: list[MoneyOut]


class DayCountOut(Schema):
    day: date
    count: int


class DashboardOut(Schema):
    pipeline_id: int
    stages: list[StageValueOut]
    won_this_month: ClosedOut
    won_last_month: ClosedOut
    lost_this_month: ClosedOut
    lost_last_month: ClosedOut
    new_contacts: list[DayCountOut]
    extra: dict[str, dict[str, Any]] = Field(
        description="Figures other areas contribute, e.g. tasks: {overdue, today}"
    )
