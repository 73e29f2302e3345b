"""The drips API. Thin."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from parley.core.errors import ActionError
from parley.core.pagination import paginate
from parley.drips import access, actions
from parley.drips.models import Enrolment
from parley.drips.schemas import (
    EnrolIn,
    EnrolManyOut,
    EnrolmentOut,
    EnrolmentPage,
    RunOut,
    SendOut,
    SequenceIn,
    SequenceOut,
    SequencePage,
    SequenceUpdateIn,
    StepIn,
    StepOut,
    StepStatsOut,
    StepUpdateIn,
)
from parley.tenancy.actor import Actor, actor_of

router = Router(tags=["drips"])


# -- sequences ----------------------------------------------------------------------------


@router.get("/drips", response=SequencePage, summary="List drip sequences")
def list_sequences(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> Any:
    """With each sequence's enrolment counts (all time, and in progress)."""
    return paginate(access.sequence_list(actor_of(request)), cursor=cursor, limit=limit)


@router.post("/drips", response={201: SequenceOut}, summary="Create a drip sequence")
def create_sequence(request: HttpRequest, payload: SequenceIn) -> Any:
    """Created inactive: add steps, then activate it."""
    fields = actions.SequenceFields(**payload.dict())
    return Status(201, actions.do_create_sequence(actor=actor_of(request), fields=fields))


@router.get("/drips/{sequence_id}", response=SequenceOut, summary="Get a drip sequence")
def get_sequence(request: HttpRequest, sequence_id: int) -> Any:
    return access.access_sequence(actor_of(request), sequence_id)


@router.patch("/drips/{sequence_id}", response=SequenceOut, summary="Edit a drip sequence")
def update_sequence(request: HttpRequest, sequence_id: int, payload: SequenceUpdateIn) -> Any:
    actor = actor_of(request)
    sequence = access.access_sequence(actor, sequence_id)
    fields = actions.SequenceFields.of(sequence)
    for name in payload.model_fields_set:
        value = getattr(payload, name)
        if value is None and name in ("name", "trigger", "keywords", "exit_on_reply"):
            continue
        setattr(fields, name, value)
    return actions.do_update_sequence(actor=actor, sequence=sequence, fields=fields)


@router.delete("/drips/{sequence_id}", response={204: None}, summary="Delete a drip sequence")
def delete_sequence(request: HttpRequest, sequence_id: int) -> Any:
    """Steps not sent yet are cancelled; sent messages stay in the conversations."""
    actor = actor_of(request)
    actions.do_delete_sequence(actor=actor, sequence=access.access_sequence(actor, sequence_id))
    return Status(204, None)


@router.post(
    "/drips/{sequence_id}/activate", response=SequenceOut, summary="Activate a drip sequence"
)
def activate(request: HttpRequest, sequence_id: int) -> Any:
    """Starts enrolling, and resumes paused enrolments without a burst: at most
    one overdue step per contact goes out now, the next ones keep their delays."""
    actor = actor_of(request)
    return actions.do_activate(actor=actor, sequence=access.access_sequence(actor, sequence_id))


@router.post(
    "/drips/{sequence_id}/deactivate", response=SequenceOut, summary="Deactivate a drip sequence"
)
def deactivate(request: HttpRequest, sequence_id: int) -> Any:
    """Stops enrolling and pauses every enrolment (their next steps are held)."""
    actor = actor_of(request)
    return actions.do_deactivate(actor=actor, sequence=access.access_sequence(actor, sequence_id))


# -- steps --------------------------------------------------------------------------------


@router.get("/drips/{sequence_id}/steps", response=list[StepOut], summary="List a sequence's steps")
def list_steps(request: HttpRequest, sequence_id: int) -> Any:
    actor = actor_of(request)
    return access.steps_of(actor, access.access_sequence(actor, sequence_id))


@router.post("/drips/{sequence_id}/steps", response={201: StepOut}, summary="Add a step")
def create_step(request: HttpRequest, sequence_id: int, payload: StepIn) -> Any:
    """Appended after the last step."""
    actor = actor_of(request)
    sequence = access.access_sequence(actor, sequence_id)
    step = actions.do_save_step(
        actor=actor, sequence=sequence, step=None, fields=actions.StepFields(**payload.dict())
    )
    return Status(201, step)


@router.get("/drips/{sequence_id}/steps/{step_id}", response=StepOut, summary="Get a step")
def get_step(request: HttpRequest, sequence_id: int, step_id: int) -> Any:
    actor = actor_of(request)
    return access.access_step(actor, access.access_sequence(actor, sequence_id), step_id)


@router.patch("/drips/{sequence_id}/steps/{step_id}", response=StepOut, summary="Edit a step")
def update_step(request: HttpRequest, sequence_id: int, step_id: int, payload: StepUpdateIn) -> Any:
    actor = actor_of(request)
    sequence = access.access_sequence(actor, sequence_id)
    step = access.access_step(actor, sequence, step_id)
    sent = payload.model_fields_set
    fields = actions.StepFields.of(step)
    for name in sent - {"position"}:
        value = getattr(payload, name)
        if value is None and name in (
            "mapping",
            "text",
            "delay_amount",
            "delay_unit",
            "window_days",
        ):
            continue
        setattr(fields, name, value)
    if "text" in sent and payload.text and "template_id" not in sent:
        fields.template_id = None  # a text replaces the template
    step = actions.do_save_step(actor=actor, sequence=sequence, step=step, fields=fields)
    if "position" in sent and payload.position is not None:
        while step.position != payload.position:
            before = step.position
            step = actions.do_move_step(
                actor=actor, step=step, by=1 if payload.position > step.position else -1
            )
            if step.position == before:
                break
    return access.access_step(actor, sequence, step.pk)


@router.delete(
    "/drips/{sequence_id}/steps/{step_id}", response={204: None}, summary="Delete a step"
)
def delete_step(request: HttpRequest, sequence_id: int, step_id: int) -> Any:
    """Contacts waiting for it move on to the next step (or complete)."""
    actor = actor_of(request)
    step = access.access_step(actor, access.access_sequence(actor, sequence_id), step_id)
    actions.do_delete_step(actor=actor, step=step)
    return Status(204, None)


# -- enrolments ---------------------------------------------------------------------------


def _enrolment_out(actor: Actor, enrolments: list[Enrolment]) -> list[dict[str, Any]]:
    out = []
    for sub in access.step_statuses(actor, enrolments):
        e = sub.enrolment
        out.append(
            {
                "id": e.pk,
                "sequence_id": e.sequence_id,
                "contact_id": e.contact_id,
                "state": e.state,
                "exit_reason": e.exit_reason,
                "source": e.source,
                "current_step_id": e.current_step_id,
                "enrolled_at": e.enrolled_at,
                "ended_at": e.ended_at,
                "steps": [
                    RunOut(step_id=r.step_id, state=r.label, reason=r.reason, at=r.at)
                    for r in sub.runs.values()
                ],
            }
        )
    return out


@router.get("/drips/{sequence_id}/enrolments", response=EnrolmentPage, summary="List enrolments")
def list_enrolments(
    request: HttpRequest,
    sequence_id: int,
    state: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Any:
    """Newest first, with each step's status. `state`: active, completed or exited."""
    actor = actor_of(request)
    sequence = access.access_sequence(actor, sequence_id)
    page = paginate(
        access.enrolment_list(actor, sequence, state=state or ""),
        cursor=cursor,
        limit=limit,
        newest_first=True,
    )
    return {"items": _enrolment_out(actor, page["items"]), "next_cursor": page["next_cursor"]}


@router.post(
    "/drips/{sequence_id}/enrolments",
    response={201: EnrolmentOut, 200: EnrolManyOut},
    summary="Enrol contacts",
)
def create_enrolment(request: HttpRequest, sequence_id: int, payload: EnrolIn) -> Any:
    """`contact_id`: enrol one contact (201 with the enrolment; 409 if already
    in, 400 if opted out). `contact_ids`: enrol many, answered with counts."""
    actor = actor_of(request)
    sequence = access.access_sequence(actor, sequence_id)
    if payload.contact_id is not None:
        contact = access.access_enrollable_contact(actor, payload.contact_id)
        enrolment = actions.do_enrol_contact(
            actor=actor, sequence=sequence, contact=contact, source=Enrolment.Source.API
        )
        return Status(201, _enrolment_out(actor, [enrolment])[0])
    if payload.contact_ids is None:
        raise ActionError("Send contact_id or contact_ids.", code="required", field="contact_id")
    result = actions.do_enrol(
        actor=actor,
        sequence=sequence,
        contact_ids=payload.contact_ids,
        source=Enrolment.Source.API,
    )
    return Status(200, result.__dict__)


@router.get(
    "/drips/{sequence_id}/enrolments/{enrolment_id}",
    response=EnrolmentOut,
    summary="Get an enrolment",
)
def get_enrolment(request: HttpRequest, sequence_id: int, enrolment_id: int) -> Any:
    actor = actor_of(request)
    enrolment = access.access_enrolment(
        actor, access.access_sequence(actor, sequence_id), enrolment_id
    )
    return _enrolment_out(actor, [enrolment])[0]


@router.delete(
    "/drips/{sequence_id}/enrolments/{enrolment_id}",
    response=EnrolmentOut,
    summary="Remove a contact from a sequence",
)
def delete_enrolment(request: HttpRequest, sequence_id: int, enrolment_id: int) -> Any:
    """Ends the enrolment (exit reason "removed") and cancels its waiting step."""
    actor = actor_of(request)
    enrolment = access.access_enrolment(
        actor, access.access_sequence(actor, sequence_id), enrolment_id
    )
    return _enrolment_out(actor, [actions.do_remove_enrolment(actor=actor, enrolment=enrolment)])[0]


# -- figures ------------------------------------------------------------------------------


@router.get(
    "/drips/{sequence_id}/stats", response=list[StepStatsOut], summary="Per-step statistics"
)
def stats(request: HttpRequest, sequence_id: int) -> Any:
    """Per step: sent (delivered and read included), delivered, read, replied
    (the contact wrote after it went out), failed, skipped."""
    actor = actor_of(request)
    steps = access.steps_of(actor, access.access_sequence(actor, sequence_id))
    return [
        {"step_id": step.pk, "position": step.position, **p.as_dict()}
        for step, p in access.step_stats(actor, steps)
    ]


@router.get("/drips/{sequence_id}/sends", response=list[SendOut], summary="Recent sends")
def sends(request: HttpRequest, sequence_id: int, limit: int = 100) -> Any:
    """The send log: the sequence's most recent steps planned or sent, newest first."""
    actor = actor_of(request)
    if not 1 <= limit <= 500:
        raise ActionError("limit is between 1 and 500.", code="invalid_limit", field="limit")
    rows = access.send_log(actor, access.access_sequence(actor, sequence_id), limit=limit)
    return [
        {
            "item_id": r["item_id"],
            "enrolment_id": r["enrolment_id"],
            "contact_id": r["enrolment__contact_id"],
            "step_id": r["step_id"],
            "step_position": r["step__position"],
            "state": r["item__message__status"]
            if r["item__state"] == "sent" and r["item__message__status"] in ("delivered", "read")
            else r["item__state"],
            "reason": r["item__reason"],
            "due_at": r["item__not_before"],
            "finished_at": r["item__finished_at"],
        }
        for r in rows
    ]
