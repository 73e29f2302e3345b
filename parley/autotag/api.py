"""The auto-tag rules API. Thin."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from parley.autotag import access, actions
from parley.autotag.matching import compile_rule
from parley.autotag.preview import preview
from parley.autotag.schemas import (
    MoveIn,
    OrderIn,
    PreviewMatchOut,
    PreviewOut,
    RuleIn,
    RuleOut,
    RuleUpdateIn,
)
from parley.tenancy.actor import actor_of

router = Router(tags=["auto-tag rules"])


@router.get("/autotag/rules", response=list[RuleOut], summary="List auto-tag rules in order")
def list_rules(request: HttpRequest) -> Any:
    return list(access.rule_list(actor_of(request)))


@router.post("/autotag/rules", response={201: RuleOut}, summary="Create an auto-tag rule")
def create_rule(request: HttpRequest, payload: RuleIn) -> Any:
    """Added last in the order. Admins only."""
    fields = actions.RuleFields(**payload.dict())
    return Status(201, actions.do_create_rule(actor=actor_of(request), fields=fields))


@router.put("/autotag/rules/order", response=list[RuleOut], summary="Reorder auto-tag rules")
def reorder_rules(request: HttpRequest, payload: OrderIn) -> Any:
    actor = actor_of(request)
    actions.do_reorder_rules(actor=actor, rule_ids=payload.rule_ids)
    return list(access.rule_list(actor))


@router.post(
    "/autotag/rules/preview", response=PreviewOut, summary="Preview a rule on recent messages"
)
def preview_rule(request: HttpRequest, payload: RuleIn) -> Any:
    """Which of the last 200 inbound messages the rule (not saved) would have
    matched, with where in each text. Tags are not needed to preview."""
    actor = actor_of(request)
    actor.require(actions.MANAGE)
    compiled = compile_rule(
        rule_id=0,
        name=payload.name,
        kind=payload.kind,
        keywords=payload.keywords,
        pattern=payload.pattern,
        attribute_key=payload.attribute_key,
        attribute_op=payload.attribute_op,
        attribute_value=payload.attribute_value,
        contact_tag_ids=(),
        conversation_tag_ids=(),
        stop_after=False,
    )
    result = preview(actor, compiled)
    return PreviewOut(
        scanned=result.scanned,
        matches=[
            PreviewMatchOut(
                message_id=m.message_id,
                conversation_id=m.conversation_id,
                contact_id=m.contact_id,
                text=m.text,
                received_at=m.received_at,
                first=m.first,
                spans=compiled.spans(m.text),
            )
            for m in result.matches
        ],
    )


@router.get("/autotag/rules/{rule_id}", response=RuleOut, summary="Get an auto-tag rule")
def get_rule(request: HttpRequest, rule_id: int) -> Any:
    return access.access_rule(actor_of(request), rule_id)


@router.patch("/autotag/rules/{rule_id}", response=RuleOut, summary="Edit an auto-tag rule")
def update_rule(request: HttpRequest, rule_id: int, payload: RuleUpdateIn) -> Any:
    actor = actor_of(request)
    rule = access.access_rule(actor, rule_id)
    fields = actions.RuleFields.of(rule)
    for name in payload.model_fields_set:
        value = getattr(payload, name)
        if value is not None:
            setattr(fields, name, value)
    actions.do_update_rule(actor=actor, rule=rule, fields=fields)
    return access.access_rule(actor, rule_id)


@router.delete("/autotag/rules/{rule_id}", response={204: None}, summary="Delete an auto-tag rule")
def delete_rule(request: HttpRequest, rule_id: int) -> Any:
    actor = actor_of(request)
    actions.do_delete_rule(actor=actor, rule=access.access_rule(actor, rule_id))
    return Status(204, None)


@router.post("/autotag/rules/{rule_id}/move", response=RuleOut, summary="Move a rule up or down")
def move_rule(request: HttpRequest, rule_id: int, payload: MoveIn) -> Any:
    actor = actor_of(request)
    rule = access.access_rule(actor, rule_id)
    actions.do_move_rule(actor=actor, rule=rule, offset=payload.by)
    return access.access_rule(actor, rule_id)
