"""Every change to deals: create, edit, move on the board, win, lose, reopen."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from parley.accounts.models import User
from parley.core import domain_events
from parley.core.errors import ActionError, Conflict
from parley.core.events import publish
from parley.crm.models import Contact
from parley.deals.models import Deal, DealEvent, DealStatus, Pipeline, Stage
from parley.deals.money import clean_currency, clean_value, default_currency, format_money
from parley.deals.pipelines import ensure_pipeline
from parley.tenancy.actor import Actor
from parley.tenancy.models import Membership
from parley.tenancy.roles import Cap


class Keep(Enum):
    """'Leave this field as it is' in an edit, where None means 'clear it'."""

    KEEP = 0


KEEP = Keep.KEEP


def member_user(actor: Actor, user_id: int, field: str = "owner_id") -> User:
    """A member of the actor's workspace by user id; anyone else is refused."""
    membership = (
        Membership.objects.select_related("user")
        .filter(workspace=actor.workspace, user_id=user_id)
        .first()
    )
    if membership is None:
        raise ActionError("Pick a member of this workspace.", code="not_a_member", field=field)
    return membership.user


def _who(user: User | None) -> str:
    return user.display_name if user is not None else "nobody"


def _record(actor: Actor, deal: Deal, kind: str, data: dict[str, Any] | None = None) -> None:
    DealEvent.objects.create(
        workspace=actor.workspace, deal=deal, kind=kind, data=data or {}, actor=actor.user
    )


def _changed(actor: Actor, deal: Deal, *, created: bool) -> None:
    """Tell open boards (live) and subscribers (webhooks, workflows)."""
    publish(actor.workspace.pk, "deal", deal.pk)
    domain_events.emit(
        actor.workspace.pk, domain_events.DEAL_CHANGED, deal_ids=[deal.pk], created=created
    )


def _end_of(stage: Stage) -> int:
    last = Deal.objects.filter(
        workspace_id=stage.workspace_id, stage=stage, status=DealStatus.OPEN
    ).aggregate(m=Max("position"))["m"]
    return 0 if last is None else last + 1


def _clean_title(title: str) -> str:
    title = " ".join(title.split())[:200]
    if not title:
        raise ActionError("Give the deal a title.", code="required", field="title")
    return title


def _check_stage(stage: Stage, pipeline: Pipeline) -> None:
    if stage.pipeline_id != pipeline.pk:
        raise ActionError(
            f"The stage {stage.name!r} belongs to another pipeline.",
            code="invalid_stage",
            field="stage_id",
        )


@transaction.atomic
def do_create_deal(
    *,
    actor: Actor,
    title: str,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    contact: Contact | None = None,
    value: Decimal | int | str = Decimal("0"),
    currency: str = "",
    owner_id: int | None = None,
    expected_close_date: date | None = None,
) -> Deal:
    """A new open deal at the end of its stage (the pipeline's first stage if
    none is given; the workspace's first pipeline if neither is). Its owner
    is the actor unless another member is named."""
    actor.require(Cap.CONTACTS_WRITE)
    title = _clean_title(title)
    if pipeline is None:
        pipeline = stage.pipeline if stage is not None else ensure_pipeline(actor.workspace.pk)
    if stage is None:
        stage = (
            Stage.objects.filter(workspace=actor.workspace, pipeline=pipeline)
            .order_by("position", "id")
            .first()
        )
        if stage is None:
            raise ActionError(
                f"The pipeline {pipeline.name!r} has no stages yet.",
                code="no_stages",
                field="stage_id",
            )
    _check_stage(stage, pipeline)
    if owner_id is not None:
        owner: User | None = member_user(actor, owner_id)
    else:
        owner = actor.user
    now = timezone.now()
    deal = Deal.objects.create(
        workspace=actor.workspace,
        title=title,
        contact=contact,
        pipeline=pipeline,
        stage=stage,
        value=clean_value(value),
        currency=clean_currency(currency)
        if currency.strip()
        else default_currency(actor.workspace),
        owner=owner,
        expected_close_date=expected_close_date,
        position=_end_of(stage),
        created_by=actor.user,
        created_at=now,
        updated_at=now,
    )
    _record(
        actor,
        deal,
        DealEvent.Kind.CREATED,
        {"stage": stage.name, "value": format_money(deal.value, deal.currency)},
    )
    _changed(actor, deal, created=True)
    return deal


@transaction.atomic
def do_update_deal(
    *,
    actor: Actor,
    deal: Deal,
    title: str | Keep = KEEP,
    contact: Contact | Keep | None = KEEP,
    value: Decimal | int | str | Keep = KEEP,
    currency: str | Keep = KEEP,
    owner_id: int | Keep | None = KEEP,
    expected_close_date: date | Keep | None = KEEP,
) -> Deal:
    """Edit what is given; the history records value and owner changes
    with their old and new values, other edits by field name."""
    actor.require(Cap.CONTACTS_WRITE)
    edited: list[str] = []
    old_money = format_money(deal.value, deal.currency)
    if not isinstance(title, Keep):
        title = _clean_title(title)
        if title != deal.title:
            deal.title = title
            edited.append("title")
    if not isinstance(contact, Keep) and (contact.pk if contact else None) != deal.contact_id:
        deal.contact = contact
        edited.append("contact")
    if (
        not isinstance(expected_close_date, Keep)
        and expected_close_date != deal.expected_close_date
    ):
        deal.expected_close_date = expected_close_date
        edited.append("expected close date")
    if not isinstance(value, Keep):
        deal.value = clean_value(value)
    if not isinstance(currency, Keep):
        deal.currency = clean_currency(currency)
    new_money = format_money(deal.value, deal.currency)
    if not isinstance(owner_id, Keep):
        new_owner = member_user(actor, owner_id) if owner_id is not None else None
        if (new_owner.pk if new_owner else None) != deal.owner_id:
            _record(
                actor,
                deal,
                DealEvent.Kind.OWNER_CHANGED,
                {"from": _who(deal.owner), "to": _who(new_owner)},
            )
            deal.owner = new_owner
    if new_money != old_money:
        _record(actor, deal, DealEvent.Kind.VALUE_CHANGED, {"from": old_money, "to": new_money})
    if edited:
        _record(actor, deal, DealEvent.Kind.EDITED, {"fields": edited})
    deal.updated_at = timezone.now()
    deal.save(
        update_fields=[
            "title",
            "contact",
            "expected_close_date",
            "value",
            "currency",
            "owner",
            "updated_at",
        ]
    )
    _changed(actor, deal, created=False)
    return deal


@transaction.atomic
def do_move_deal(*, actor: Actor, deal: Deal, stage: Stage, position: int | None = None) -> Deal:
    """Put an open deal in ``stage`` at ``position`` (0 = top; None or past
    the end = bottom), renumbering that column. A stage of another pipeline
    moves the deal to that pipeline."""
    actor.require(Cap.CONTACTS_WRITE)
    if deal.status != DealStatus.OPEN:
        raise Conflict(
            f"This deal is {deal.status}; reopen it to move it.",
            code="deal_closed",
            field="stage_id",
        )
    if position is not None and position < 0:
        raise ActionError("position counts from 0.", code="invalid_position", field="position")
    # Moves into one column queue on its stage row, so two people dragging at
    # once cannot interleave their renumbering.
    Stage.objects.select_for_update().filter(workspace=actor.workspace, pk=stage.pk).first()
    old_stage = deal.stage
    siblings = list(
        Deal.objects.filter(workspace=actor.workspace, stage=stage, status=DealStatus.OPEN)
        .exclude(pk=deal.pk)
        .order_by("position", "id")
        .values_list("id", "position")
    )
    index = len(siblings) if position is None else min(position, len(siblings))
    order = [i for i, _ in siblings[:index]] + [deal.pk] + [i for i, _ in siblings[index:]]
    current = dict(siblings)
    renumber = [
        Deal(pk=deal_id, position=n)
        for n, deal_id in enumerate(order)
        if deal_id != deal.pk and current[deal_id] != n
    ]
    if renumber:
        Deal.objects.bulk_update(renumber, ["position"])
    deal.stage = stage
    deal.pipeline_id = stage.pipeline_id
    deal.position = index
    deal.updated_at = timezone.now()
    deal.save(update_fields=["stage", "pipeline", "position", "updated_at"])
    if old_stage.pk != stage.pk:
        _record(
            actor,
            deal,
            DealEvent.Kind.STAGE_CHANGED,
            {"from": old_stage.name, "to": stage.name, "to_id": stage.pk},
        )
    _changed(actor, deal, created=False)
    return deal


@transaction.atomic
def do_mark_won(*, actor: Actor, deal: Deal) -> Deal:
    actor.require(Cap.CONTACTS_WRITE)
    if deal.status == DealStatus.WON:
        raise Conflict("This deal is won already.", code="already_won")
    deal.status = DealStatus.WON
    deal.lost_reason = ""
    deal.closed_at = deal.updated_at = timezone.now()
    deal.save(update_fields=["status", "lost_reason", "closed_at", "updated_at"])
    _record(actor, deal, DealEvent.Kind.WON, {"value": format_money(deal.value, deal.currency)})
    _changed(actor, deal, created=False)
    return deal


@transaction.atomic
def do_mark_lost(*, actor: Actor, deal: Deal, reason: str) -> Deal:
    actor.require(Cap.CONTACTS_WRITE)
    reason = " ".join(reason.split())[:300]
    if not reason:
        raise ActionError(
            "Say why the deal was lost (it helps the next one).", code="required", field="reason"
        )
    if deal.status == DealStatus.LOST:
        raise Conflict("This deal is lost already.", code="already_lost")
    deal.status = DealStatus.LOST
    deal.lost_reason = reason
    deal.closed_at = deal.updated_at = timezone.now()
    deal.save(update_fields=["status", "lost_reason", "closed_at", "updated_at"])
    _record(actor, deal, DealEvent.Kind.LOST, {"reason": reason})
    _changed(actor, deal, created=False)
    return deal


@transaction.atomic
def do_reopen_deal(*, actor: Actor, deal: Deal) -> Deal:
    """Back on the board, at the bottom of the stage it was closed in."""
    actor.require(Cap.CONTACTS_WRITE)
    if deal.status == DealStatus.OPEN:
        raise Conflict("This deal is open already.", code="already_open")
    was = deal.status
    deal.status = DealStatus.OPEN
    deal.lost_reason = ""
    deal.closed_at = None
    deal.position = _end_of(deal.stage)
    deal.updated_at = timezone.now()
    deal.save(update_fields=["status", "lost_reason", "closed_at", "position", "updated_at"])
    _record(actor, deal, DealEvent.Kind.REOPENED, {"from": was})
    _changed(actor, deal, created=False)
    return deal


@transaction.atomic
def do_delete_deal(*, actor: Actor, deal: Deal) -> None:
    actor.require(Cap.CONTACTS_WRITE)
    deal_id = deal.pk
    deal.delete()
    publish(actor.workspace.pk, "deal", deal_id)
